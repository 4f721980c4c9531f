"""Input buffer: the input bitmap of the next ``input_depth`` timesteps and the last spike
record, in one memory, and the walks over the bitmap.

Word ``i`` of the memory holds the record's ``i``-th neuron in its low bits and input
``i``'s bit of each of the ``input_depth`` timesteps (*slots*, the timestep modulo
``input_depth``) above them, written bit by bit (one iCE40 block RAM for a 256 x 256
core). Started by ``start`` with a :class:`Bitmap` walk and a slot:

- ``FEED``: an ``INPUT`` command (``cmd``) for every set bit of the slot, clearing it, so
  the core gets each source of the timestep once, however often SPIKES_IN repeated it;
- ``CLEAR_SLOT``: the slot's bits to 0 (SPIKES_IN sets a timestep's inputs, not adds);
  then ``set`` sets one source's bit of that slot per index;
- ``CLEAR_ALL``: every slot (RESET_STATE).

``done`` pulses at the end of a walk (``fed`` with it after a FEED). ``spike`` writes a
neuron of the running timestep's record at its position; ``record_addr`` reads the
record (``record_data`` one cycle later) but during a FEED.
"""

from enum import IntEnum

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, ceil_log2

from hdl.block_memory import BlockMemory
from hdl.commands import Op, command_layout
from hdl.compare import below
from snn.core_spec import CoreSpec


class Bitmap(IntEnum):
    """A walk over the input bitmap."""

    FEED = 0
    CLEAR_SLOT = 1
    CLEAR_ALL = 2


class InputBuffer(wiring.Component):
    """The bitmap and record memory of a ``spec`` core with ``input_depth`` slots."""

    def __init__(self, spec: CoreSpec, input_depth: int):
        self.spec, self.depth = spec, input_depth
        n, k = spec.max_neurons, spec.max_inputs
        self.k2 = 1 << ceil_log2(max(k, 2))  # bits per slot: a power of two
        self.rec_bits = bits_for(n - 1)  # a neuron number
        sbits = ceil_log2(input_depth)
        super().__init__(
            {
                "start": In(stream.Signature(data.StructLayout({"walk": Bitmap, "slot": sbits}))),
                "done": Out(1),
                "fed": Out(1),
                "cmd": Out(stream.Signature(command_layout(spec))),
                "set": In(stream.Signature(ceil_log2(self.k2), always_ready=True)),
                "spike": In(
                    stream.Signature(
                        data.StructLayout({"pos": range(n + 1), "neuron": self.rec_bits}), always_ready=True
                    )
                ),
                "record_addr": In(range(max(n, self.k2))),
                "record_data": Out(self.rec_bits),
            }
        )

    def elaborate(self, platform):
        spec, depth, k2, rec_bits = self.spec, self.depth, self.k2, self.rec_bits
        n, k = spec.max_neurons, spec.max_inputs
        m = Module()
        width = rec_bits + depth
        m.submodules.memory = mem = BlockMemory(max(n, k2), width, lanes=width, exclusive=False)
        rd, wr = mem.rd, mem.wr
        m.d.comb += self.record_data.eq(rd.data[:rec_bits])

        bit_i = Signal(range(k2 + 1))  # the word walked
        bit_i_next = Signal.like(bit_i)
        m.d.comb += bit_i_next.eq(bit_i)
        m.d.sync += bit_i.eq(bit_i_next)
        slot = Signal.like(self.start.payload.slot)
        clr_all = Signal()
        slot_bit = Signal(width)  # the write mask of the slot's bits
        m.d.comb += slot_bit.eq(Cat(Const(0, rec_bits), (Const(1, depth) << slot)[:depth]))
        feed_bit = rd.data[rec_bits:].bit_select(slot, 1)
        feeding = Signal()  # the read port walks the bitmap

        # writes from outside: a record's neuron, a source's bit (never during a walk)
        with m.If(self.spike.valid):
            pos = self.spike.payload.pos
            m.d.comb += [
                wr.addr.eq(pos),
                wr.data.eq(self.spike.payload.neuron),
                wr.en.eq(Mux(below(pos, n), (1 << rec_bits) - 1, 0)),
            ]
        with m.If(self.set.valid):
            m.d.comb += [wr.addr.eq(self.set.payload), wr.data.eq(-1), wr.en.eq(slot_bit)]

        def finish():
            m.d.comb += self.done.eq(1)
            m.next = "IDLE"

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.start.ready.eq(1)
                with m.If(self.start.valid):
                    walk = self.start.payload.walk
                    m.d.comb += bit_i_next.eq(0)
                    m.d.sync += clr_all.eq(walk == Bitmap.CLEAR_ALL)
                    m.d.sync += slot.eq(self.start.payload.slot)
                    with m.If(walk == Bitmap.FEED):
                        m.d.comb += feeding.eq(1)  # its first word is read now
                        m.next = "FEED"
                    with m.Else():
                        m.next = "CLEAR"
            with m.State("FEED"):  # an INPUT per set bit of the slot, clearing it
                m.d.comb += feeding.eq(1)
                with m.If(bit_i == k2):
                    m.d.comb += self.fed.eq(1)
                    finish()
                with m.Elif(feed_bit & below(bit_i, k)):
                    m.next = "FEED_SEND"
                with m.Else():
                    m.d.comb += bit_i_next.eq(bit_i + 1)
            with m.State("FEED_SEND"):
                m.d.comb += [
                    feeding.eq(1),
                    self.cmd.valid.eq(1),
                    self.cmd.payload.op.eq(Op.INPUT),
                    self.cmd.payload.data.eq(bit_i),
                    wr.addr.eq(bit_i),
                    wr.data.eq(0),
                ]
                with m.If(self.cmd.ready):
                    m.d.comb += [wr.en.eq(slot_bit), bit_i_next.eq(bit_i + 1)]
                    m.next = "FEED"
            with m.State("CLEAR"):  # the slot's bits, or every slot's
                m.d.comb += [
                    wr.addr.eq(bit_i),
                    wr.data.eq(0),
                    wr.en.eq(Mux(bit_i == k2, 0, Mux(clr_all, -1 << rec_bits, slot_bit))),
                    bit_i_next.eq(bit_i + 1),
                ]
                with m.If(bit_i == k2):
                    finish()
        m.d.comb += rd.addr.eq(Mux(feeding, bit_i_next, self.record_addr))
        return m
