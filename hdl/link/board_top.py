"""The board's top: UART pins, the link and the core.

``rx``/``tx`` are the UART lines (8N1 at ``params.baud``, idle high); everything runs in
the one ``sync`` domain at ``params.clock_hz``. :func:`generate` exports it as Verilog.
"""

from amaranth.back import verilog
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from snn.core_spec import CoreSpec

from .link_core import LinkCore
from .params import LinkParams
from .uart_rx import UartRx
from .uart_tx import UartTx


class BoardTop(wiring.Component):
    """UART receiver -> :class:`LinkCore` (frames, commands, core) -> UART transmitter."""

    rx: In(1, init=1)
    tx: Out(1, init=1)

    def __init__(self, spec: CoreSpec, params: LinkParams | None = None):
        self.spec = spec
        self.params = params or LinkParams()
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        divisor = self.params.divisor
        uart_rx = m.submodules.uart_rx = UartRx(divisor)
        uart_tx = m.submodules.uart_tx = UartTx(divisor)
        link = m.submodules.link = LinkCore(self.spec, self.params)
        m.d.comb += [
            uart_rx.rx.eq(self.rx),
            self.tx.eq(uart_tx.tx),
            link.rx.valid.eq(uart_rx.bytes.valid),
            link.rx.payload.eq(uart_rx.bytes.payload),
            link.rx_error.eq(uart_rx.error),
        ]
        wiring.connect(m, link.tx, uart_tx.bytes)
        return m


def generate(spec: CoreSpec, params: LinkParams | None = None, name: str = "snn_board") -> str:
    """Verilog of the board top (deterministic: no source locations)."""
    return verilog.convert(BoardTop(spec, params), name=name, emit_src=False, strip_internal_attrs=True)
