"""Verilog + XDC for a Xilinx 7-series board, finished with Vivado by the user.

There is no open place and route for Xilinx on PyPI, so the build stops at sources:
``snn_board`` (``hdl.link.board_top``) at the board's clock, a small ``snn_top`` wrapper
that holds it in reset for 16 cycles after configuration (no reset button needed), and an
XDC with the board's clock and UART pins taken from its amaranth-boards definition.
"""

from __future__ import annotations

from pathlib import Path

from hdl.link.board_top import generate as board_verilog
from hdl.link.params import LinkParams
from snn.core_spec import CoreSpec

from .boards import Board

WRAPPER = """\
// Board top for {board}: power-on reset, then snn_board (UART {baud} baud, {clock_mhz:g} MHz clock).
module snn_top (input wire clk, input wire uart_rx, output wire uart_tx);
    reg [3:0] por = 4'd0;  // configuration sets it to 0; reset until it saturates
    always @(posedge clk) if (por != 4'hf) por <= por + 4'd1;
    snn_board board (.clk(clk), .rst(por != 4'hf), .rx(uart_rx), .tx(uart_tx));
endmodule
"""


def _pin(resource) -> str:
    return resource.ios[0].names[0]


def xdc(board: Board) -> str:
    """Constraints for ``snn_top``'s ports on ``board``."""
    platform = board.platform_class()()
    clk = platform.lookup(platform.default_clk, 0)
    uart = platform.lookup("uart", 0)
    standard = dict(uart.attrs).get("IOSTANDARD", "LVCMOS33")
    clk_standard = dict(clk.attrs).get("IOSTANDARD", "LVCMOS33")
    subs = {s.name: s for s in uart.ios}
    period = 1e9 / clk.clock.frequency
    return "\n".join(
        [
            f"# {board.description}",
            f"set_property -dict {{PACKAGE_PIN {_pin(clk)} IOSTANDARD {clk_standard}}} [get_ports clk]",
            f"create_clock -name clk -period {period:.3f} [get_ports clk]",
            f"set_property -dict {{PACKAGE_PIN {_pin(subs['rx'])} IOSTANDARD {standard}}} [get_ports uart_rx]",
            f"set_property -dict {{PACKAGE_PIN {_pin(subs['tx'])} IOSTANDARD {standard}}} [get_ports uart_tx]",
            "set_false_path -from [get_ports uart_rx]",
            "set_false_path -to [get_ports uart_tx]",
            "",
        ]
    )


def export(spec: CoreSpec, board: Board, out_dir: Path, baud: int) -> list[Path]:
    """Write ``snn_board.v``, ``snn_top.v`` and ``snn_top.xdc`` into ``out_dir``."""
    params = LinkParams(clock_hz=board.clock_hz, baud=baud, credits=board.credits)
    params.divisor  # noqa: B018 - raises a clear error for a baud too fast for the clock
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "snn_board.v": board_verilog(spec, params),
        "snn_top.v": WRAPPER.format(board=board.name, baud=baud, clock_mhz=board.clock_hz / 1e6),
        "snn_top.xdc": xdc(board),
    }
    for name, text in files.items():
        (out_dir / name).write_text(text)
    return [out_dir / name for name in files]
