"""The board top's exported Verilog under cocotb + Icarus, through its UART pins: the
conversation of test_board_top (IDENTIFY, a write and its read-back, a step) gives the
device model's replies, byte for byte."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cocotb_run import have_icarus
from test_board_top import PARAMS, SPEC, conversation, model_replies

from hdl.link.board_top import generate

HERE = Path(__file__).resolve().parent


@pytest.mark.skipif(not have_icarus(), reason="Icarus Verilog (iverilog) is not installed")
def test_board_verilog_over_uart(tmp_path):
    from cocotb_tools.runner import get_results, get_runner

    source = tmp_path / "snn_board.v"
    source.write_text(generate(SPEC, PARAMS))
    runner = get_runner("icarus")
    # -g2005: under -g2012 Icarus runs the registers' declaration initialisers without an
    # event, so an `always @*` block that reads only such registers (the engine's tx.valid
    # from its FSM state) stays X until one of them changes
    runner.build(
        sources=[source],
        hdl_toplevel="snn_board",
        build_dir=tmp_path,
        timescale=("1ns", "1ps"),
        build_args=["-g2005"],
    )
    saved = list(sys.path)
    sys.path[:0] = [str(HERE), str(HERE.parent.parent)]  # the runner passes sys.path to the simulator
    try:
        xml = runner.test(
            test_module="cocotb_board",
            hdl_toplevel="snn_board",
            build_dir=tmp_path,
            test_dir=tmp_path,
            extra_env={
                "SNN_LINK_DIVISOR": str(PARAMS.divisor),
                "SNN_LINK_FRAMES": json.dumps([f.hex() for f in conversation()]),
                "SNN_LINK_REPLIES": json.dumps([r.hex() for r in model_replies()]),
            },
        )
    finally:
        sys.path[:] = saved
    n_tests, n_fail = get_results(xml)
    assert n_tests == 1 and n_fail == 0, f"cocotb: {n_fail} of {n_tests} failed; see {tmp_path}"
