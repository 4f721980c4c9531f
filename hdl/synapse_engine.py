"""The synaptic-event engine: phase 4 (propagation) of docs/core-arithmetic.md.

Event driven: for each presynaptic spike of the step (the neurons that spiked, then the
input spikes) it walks the spike's weight row, one weight per cycle, and adds each weight
to the accumulator of its target: ``acc.e`` for ``w > 0``, ``acc.i`` for ``w < 0``. A
weight read at cycle ``t`` is added and written back at ``t + 1``, while the walk reads
the next target's accumulator: two updates of one accumulator are at least three cycles
apart (a row's targets are distinct, and two rows are separated by a fetch), so no read
meets the write of its own word (the core's accumulator memory needs no bypass).
Cost: ``(n_neurons + 2)`` cycles per spiking source, plus 4 per step (start to done).

Two lanes (``CoreSpec.lanes == 2``): the weights of columns ``2c`` and ``2c + 1`` come in
one read (the two banks of :class:`hdl.weight_memory.WeightMemory`, ``pair``), and the
accumulators are stored two neurons a word (even neuron in the low half, a write enable
per half), so a cycle adds two weights: ``(ceil(n_neurons / 2) + 2)`` cycles per source.
The accumulators are then two sets (the core's, one per step parity): the engine starts
with the neuron engine and walks the input spikes' rows first, into the set the neuron
engine does not read, then waits for ``spikes_ready`` (the neuron engine is done) and
walks the neuron spikes' rows.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from snn.core_spec import CoreSpec

from .memories import acc_layout, read_port, step_lists, write_port


def add_weights(m: Module, acc: data.StructLayout, old, wr, weights, weight_bits: int, lanes_on) -> None:
    """Add ``weights`` (``P`` signed weights, lane 0 in the low bits) to the accumulator word
    ``old`` (``P`` neurons, :func:`hdl.memories.acc_layout` each) through the write port ``wr``:
    ``acc.e`` takes ``w > 0``, ``acc.i`` ``w < 0``; a lane is written when ``lanes_on`` has
    its bit and its weight is not 0."""
    A, W = acc.size, weight_bits
    for lane in range(len(wr.en)):
        w = weights[lane * W : (lane + 1) * W].as_signed()
        before = acc(old[lane * A : (lane + 1) * A])
        after = acc(wr.data[lane * A : (lane + 1) * A])
        m.d.comb += [
            # signs from the sign bit and a zero test (no compare's carry chain)
            after.e.eq(before.e + Mux(~w[-1] & (w != 0), w, 0)),
            after.i.eq(before.i + Mux(w[-1], w, 0)),
            wr.en[lane].eq(lanes_on[lane] & (w != 0)),
        ]


class SynapseEngine(wiring.Component):
    """Propagates one step's spikes through the recurrent (REC) and feed-forward (FF) rows.

    ``start`` pulses once per step; ``done`` pulses when every row was walked and the last
    accumulator written. Neuron spikes are entries ``0..spike_count-1`` of the spike list,
    input spikes entries ``0..input_count-1`` of bank ``input_bank`` of the input list.
    """

    def __init__(self, spec: CoreSpec):
        self.spec = spec
        n, k = spec.max_neurons, spec.max_inputs
        self.acc = acc_layout(spec)
        P = self.lanes = spec.lanes
        super().__init__(
            {
                "start": In(1),
                "done": Out(1),
                # two lanes: the spike list is complete (the inputs' rows go first)
                "spikes_ready": In(1, init=1),
                **step_lists(spec),
                "ff_rd": read_port(k * n // P, P * spec.weight_bits),
                "rec_rd": read_port(n * n // P, P * spec.weight_bits),
                "acc_rd": read_port(n // P, P * self.acc.size),
                "acc_wr": write_port(n // P, P * self.acc.size, P),
            }
        )

    def elaborate(self, platform):
        spec = self.spec
        n_max, k_max = spec.max_neurons, spec.max_inputs
        m = Module()
        P, W = self.lanes, spec.weight_bits
        from_inputs = Signal()  # walking FF rows (input spikes) rather than REC rows
        s = Signal(range(max(n_max, k_max) + 1))  # position in the spike list
        j = Signal(range(n_max + 1))  # column in the row (two lanes: column pair)
        base = Signal(range(max(n_max, k_max) * n_max + 1))  # flat address of the row's column 0
        count = Mux(from_inputs, self.input_count, self.spike_count)
        # the row's length in reads, and (two lanes) the pairs whose odd column is in use
        length, full = self.n_neurons, None
        if P == 2:
            length, full = (self.n_neurons + 1) >> 1, self.n_neurons >> 1
        m.d.comb += [
            self.spikes_rd.addr.eq(s),
            self.inputs_rd.addr.eq(Mux(self.input_bank, k_max, 0) + s),
            self.ff_rd.addr.eq(base + j),
            self.rec_rd.addr.eq(base + j),
            self.acc_rd.addr.eq(j),
        ]

        # stage 2: the weights (read last cycle) join their targets' accumulators
        valid = Signal()
        col = Signal.like(j)
        weight_ff = Signal()
        odd_on = Signal()  # two lanes: the pair's odd column is a neuron in use
        m.d.sync += valid.eq(0)
        words = Signal(P * W)
        m.d.comb += words.eq(Mux(weight_ff, self.ff_rd.data, self.rec_rd.data))
        m.d.comb += self.acc_wr.addr.eq(col)
        on = Cat(valid, valid & odd_on) if P == 2 else valid
        add_weights(m, self.acc, self.acc_rd.data, self.acc_wr, words, W, on)

        m.d.sync += self.done.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [from_inputs.eq(P == 2), s.eq(0)]
                    m.next = "FETCH"
            with m.State("FETCH"):
                # the list read of entry s is issued by the comb address above
                with m.If(s == count):
                    m.d.sync += s.eq(0)
                    if P == 1:  # the neuron spikes' rows, then the inputs'
                        with m.If(from_inputs):
                            m.next = "DRAIN"
                        with m.Else():
                            m.d.sync += from_inputs.eq(1)
                    else:  # the inputs' rows, then the neuron spikes' when they are known
                        with m.If(from_inputs):
                            m.d.sync += from_inputs.eq(0)
                            m.next = "WAIT_SPIKES"
                        with m.Else():
                            m.next = "DRAIN"
                with m.Else():
                    m.next = "ROW"
            with m.State("ROW"):
                row = Mux(from_inputs, self.inputs_rd.data, self.spikes_rd.data)
                m.d.sync += [base.eq(row * (n_max // P)), j.eq(0)]
                with m.If(self.n_neurons == 0):
                    m.d.sync += s.eq(s + 1)
                    m.next = "FETCH"
                with m.Else():
                    m.next = "WALK"
            with m.State("WALK"):
                m.d.sync += [valid.eq(1), col.eq(j), weight_ff.eq(from_inputs), j.eq(j + 1)]
                if P == 2:
                    m.d.sync += odd_on.eq(j < full)
                with m.If(j + 1 == length):
                    m.d.sync += s.eq(s + 1)
                    m.next = "FETCH"
            if P == 2:
                with m.State("WAIT_SPIKES"):
                    with m.If(self.spikes_ready):
                        m.next = "FETCH"
            with m.State("DRAIN"):
                m.d.sync += self.done.eq(1)
                m.next = "IDLE"
        return m
