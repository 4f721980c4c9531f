"""UART receiver (8N1): a 2-FF synchronizer, mid-bit sampling, framing-error detection."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out


class UartRx(wiring.Component):
    """Receives bytes on ``rx`` at ``clock / divisor`` baud.

    ``bytes`` gives every byte whose stop bit was high, for one cycle (there is no
    back-pressure: a byte not taken is lost). A low stop bit pulses ``error`` instead
    and the receiver waits for the line to go high again (a break is one error).
    """

    rx: In(1, init=1)
    bytes: Out(stream.Signature(8, always_ready=True))
    error: Out(1)

    def __init__(self, divisor: int):
        if divisor < 4:
            raise ValueError(f"the UART receiver needs at least 4 clock cycles per bit, got {divisor}")
        self.divisor = divisor
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        rx = Signal(init=1)
        # rx comes from another clock domain (the line): two flip-flops before any use
        m.submodules.sync_rx = FFSynchronizer(self.rx, rx, init=1)

        timer = Signal(range(self.divisor))
        bit = Signal(range(8))
        shift = Signal(8)
        m.d.sync += [self.bytes.valid.eq(0), self.error.eq(0)]
        # the byte is the shift register itself: it stays put until the next start bit
        m.d.comb += self.bytes.payload.eq(shift)
        with m.If(timer != 0):
            m.d.sync += timer.eq(timer - 1)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~rx):  # falling edge of a start bit: sample half a bit later
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer == 0):
                    with m.If(rx):  # a glitch, not a start bit
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [timer.eq(self.divisor - 1), bit.eq(0)]
                        m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer == 0):
                    m.d.sync += [shift.eq((shift >> 1) | (rx << 7)), timer.eq(self.divisor - 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
                    with m.Else():
                        m.d.sync += bit.eq(bit + 1)
            with m.State("STOP"):
                with m.If(timer == 0):
                    with m.If(rx):
                        m.d.sync += self.bytes.valid.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += self.error.eq(1)
                        m.next = "BREAK"
            with m.State("BREAK"):
                with m.If(rx):
                    m.next = "IDLE"
        return m
