"""The board top's exported Verilog under cocotb + Icarus, through its UART pins: the
conversation of test_board_top (IDENTIFY, a write and its read-back, a step) gives the
device model's replies, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_board_top import PARAMS, SPEC, conversation, model_replies

from hdl.link.board_top import generate
from hdl.testing.cocotb_run import have_icarus, run_icarus

HERE = Path(__file__).resolve().parent


@pytest.mark.skipif(not have_icarus(), reason="Icarus Verilog (iverilog) is not installed")
def test_board_verilog_over_uart(tmp_path):
    source = tmp_path / "snn_board.v"
    source.write_text(generate(SPEC, PARAMS))
    env = {
        "SNN_LINK_DIVISOR": str(PARAMS.divisor),
        "SNN_LINK_FRAMES": json.dumps([f.hex() for f in conversation()]),
        "SNN_LINK_REPLIES": json.dumps([r.hex() for r in model_replies()]),
    }
    n_tests, n_fail = run_icarus(
        [source], "snn_board", "cocotb_board", tmp_path, [HERE, HERE.parent.parent], env
    )
    assert n_tests == 1 and n_fail == 0, f"cocotb: {n_fail} of {n_tests} failed; see {tmp_path}"
