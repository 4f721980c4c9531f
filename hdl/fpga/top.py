"""The top of a board build: the board's UART pins and clock around ``BoardTop``."""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module
from amaranth.lib import io

from hdl.link.board_top import BoardTop
from hdl.link.params import LinkParams
from snn.core_spec import CoreSpec

from .pll import pll_domain


class BuildTop(Elaboratable):
    """``BoardTop`` on a board: UART resource 0, ``sync`` at ``params.clock_hz``.

    When ``params.clock_hz`` is the board oscillator's, amaranth's platform makes the
    ``sync`` domain from it (with a reset synchronizer); otherwise a PLL of the family
    (``hdl.fpga.pll``) does.
    """

    def __init__(self, spec: CoreSpec, params: LinkParams, board_clock_hz: int, family: str):
        self.spec = spec
        self.params = params
        self.board_clock_hz = board_clock_hz
        self.family = family

    def elaborate(self, platform):
        m = Module()
        if self.params.clock_hz != self.board_clock_hz:
            pll_domain(m, platform, self.family, self.board_clock_hz, self.params.clock_hz)
        # raw ports for every line the board's UART has (some add DTR/RTS), buffers for RX/TX
        lines = {sub.name: "-" for sub in platform.lookup("uart", 0).ios}
        uart = platform.request("uart", 0, dir=lines)
        rx = m.submodules.rx_buffer = io.Buffer("i", uart.rx)
        tx = m.submodules.tx_buffer = io.Buffer("o", uart.tx)
        top = m.submodules.board = BoardTop(self.spec, self.params)
        m.d.comb += [top.rx.eq(rx.i), tx.o.eq(top.tx)]
        return m
