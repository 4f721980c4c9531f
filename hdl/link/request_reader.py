"""Request reader: the payload of the request at the head of the descriptor FIFO, read
from the request buffer (the circular byte memory the frame decoder fills).

``start`` begins a request (its payload starts at ``released``): its first
:data:`~hdl.link.request_decoder.ARGS_BYTES` bytes, the fixed fields of every opcode,
shift into ``fixed`` (zeros past the payload's end), one per cycle, then ``fetched``
pulses. After that ``payload`` streams the bytes from where ``seek`` put it (``seek_to``,
the end of the fixed fields), one per cycle as they are taken. ``release`` gives the
payload's room back to the decoder (``released`` moves past it), once per request.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import ReadPort
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for

from .request_decoder import ARGS_BYTES


class RequestReader(wiring.Component):
    """``ptr_bits``: the buffer's pointers (its address and a wrap bit); ``length_bits``:
    a payload's length."""

    def __init__(self, *, ptr_bits: int, length_bits: int):
        self.ptr_bits = ptr_bits
        super().__init__(
            {
                # held: the payload is in the buffer (a NAKed frame has none)
                "start": In(stream.Signature(data.StructLayout({"held": unsigned(1)}))),
                "length": In(length_bits),
                "buffer": In(ReadPort.Signature(addr_width=ptr_bits - 1, shape=8)),
                "released": Out(ptr_bits),
                "fixed": Out(8 * ARGS_BYTES),
                "fetched": Out(1),
                "payload": Out(stream.Signature(8)),
                "seek": In(1),
                "seek_to": In(range(ARGS_BYTES + 1)),
                "release": In(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        abits = self.ptr_bits - 1
        off = Signal(abits)  # payload byte offset; the buffer reads one ahead, so byte = payload[off]
        off_next = Signal(abits)
        m.d.comb += off_next.eq(off)
        m.d.sync += off.eq(off_next)
        m.d.comb += self.buffer.addr.eq(self.released + off_next)
        byte = self.buffer.data
        held = Signal()  # the request's payload is still in the buffer
        fetching = Signal()

        m.d.comb += self.start.ready.eq(~fetching)
        with m.If(self.start.valid & ~fetching):
            m.d.comb += off_next.eq(0)
            m.d.sync += [held.eq(self.start.payload.held), fetching.eq(1)]
        advance = Signal()  # the next payload byte (fetching, or one was taken)
        with m.If(fetching):
            with m.If(off == ARGS_BYTES):
                m.d.comb += self.fetched.eq(1)
                m.d.sync += fetching.eq(0)
            with m.Else():
                # off < ARGS_BYTES here: its low bits against the length's (or a longer length)
                fb = bits_for(ARGS_BYTES - 1)
                inside = (self.length[fb:] != 0) | (off[:fb] < self.length[:fb])
                m.d.sync += self.fixed.eq(Cat(self.fixed[8:], Mux(inside, byte, 0)))
                m.d.comb += advance.eq(1)
        m.d.comb += [self.payload.valid.eq(~fetching), self.payload.payload.eq(byte)]
        with m.If(advance | (self.payload.valid & self.payload.ready)):
            m.d.comb += off_next.eq(off + 1)
        with m.If(self.seek):
            m.d.comb += off_next.eq(self.seek_to)
        with m.If(self.release & held):
            m.d.sync += [self.released.eq(self.released + self.length), held.eq(0)]
        return m
