"""UART transmitter (8N1)."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out


class UartTx(wiring.Component):
    """Sends the bytes of ``bytes`` on ``tx`` at ``clock / divisor`` baud, LSB first.

    ``bytes.ready`` is high while the transmitter is idle; the line idles high.
    """

    bytes: In(stream.Signature(8))
    tx: Out(1, init=1)

    def __init__(self, divisor: int):
        if divisor < 1:
            raise ValueError(f"divisor must be >= 1, got {divisor}")
        self.divisor = divisor
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self.divisor))
        bits = Signal(range(11))  # bits still to send (start, 8 data, stop)
        frame = Signal(10, init=0x3FF)  # stop | data | start, shifted out from bit 0
        m.d.comb += [self.tx.eq(frame[0]), self.bytes.ready.eq(bits == 0)]
        with m.If(self.bytes.valid & self.bytes.ready):
            m.d.sync += [
                frame.eq(Cat(Const(0, 1), self.bytes.payload, Const(1, 1))),
                bits.eq(10),
                timer.eq(self.divisor - 1),
            ]
        with m.Elif(bits != 0):
            with m.If(timer == 0):
                m.d.sync += [
                    frame.eq(Cat(frame[1:], Const(1, 1))),
                    bits.eq(bits - 1),
                    timer.eq(self.divisor - 1),
                ]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m
