"""``snn hdl verilog`` and ``snn hdl test``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hdl.testing.cocotb_run import have_icarus
from snn.cli import main

SMALL = json.dumps({"max_inputs": 8, "max_neurons": 8})


def test_verilog_is_deterministic_across_working_dirs(tmp_path, monkeypatch):
    outputs = []
    for name in ("a", "b"):
        where = tmp_path / name
        where.mkdir()
        monkeypatch.chdir(where)
        assert main(["hdl", "verilog", "--spec-json", SMALL, "-o", "out/core.v"]) == 0
        outputs.append((where / "out" / "core.v").read_text())
    assert outputs[0] == outputs[1]
    assert "module snn_core" in outputs[0]
    assert str(tmp_path) not in outputs[0] and "/work" not in outputs[0]


def test_verilog_from_spec_file(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text("max_inputs = 4\nmax_neurons = 4\nstdp = false\n")
    assert main(["hdl", "verilog", str(spec), "-o", str(tmp_path / "core.v")]) == 0
    assert "module snn_core" in (tmp_path / "core.v").read_text()


def test_bad_spec_is_one_line_error(tmp_path, capsys):
    assert main(["hdl", "verilog", "--spec-json", '{"max_neurons": 0}', "-o", str(tmp_path / "x.v")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("snn hdl: error:") and "max_neurons" in err and "\n" not in err
    assert main(["hdl", "verilog", "--spec-json", '{"max_delay": 4}', "-o", str(tmp_path / "x.v")]) == 2
    assert "delays of one step" in capsys.readouterr().err


def test_verilog_of_a_wide_core(tmp_path):
    """Sixteen lanes (the smallest core they fit: 16 x 16): the weights in sixteen skewed banks."""
    wide = json.dumps({"max_inputs": 16, "max_neurons": 16, "lanes": 16})
    assert main(["hdl", "verilog", "--spec-json", wide, "-o", str(tmp_path / "core.v")]) == 0
    verilog = (tmp_path / "core.v").read_text()
    assert "module snn_core" in verilog
    for matrix in ("ff", "rec"):
        banks = {b for b in range(32) if f"module \\snn_core.mem_{matrix}.bank{b} " in verilog}
        assert banks == set(range(16)), matrix


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"max_inputs": 16, "max_neurons": 12, "lanes": 4},
            "lanes=4 needs a power-of-two max_neurons of at least 4, got 12",
        ),
        (
            {"max_inputs": 16, "max_neurons": 8, "lanes": 16},
            "lanes=16 needs a power-of-two max_neurons of at least 16, got 8",
        ),
        (
            {"max_inputs": 12, "max_neurons": 16, "lanes": 8},
            "lanes=8 needs max_inputs in multiples of 8, got 12",
        ),
        (
            {"max_inputs": 8, "max_neurons": 8, "lanes": 3},
            "CoreSpec.lanes must be one of 1, 2, 4, 8, 16, got 3",
        ),
    ],
    ids=["neurons-not-a-power-of-two", "fewer-neurons-than-lanes", "inputs-not-a-multiple", "lanes-3"],
)
def test_lanes_that_do_not_fit_are_one_line_errors(tmp_path, capsys, fields, message):
    out = tmp_path / "x.v"
    assert main(["hdl", "verilog", "--spec-json", json.dumps(fields), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("snn hdl: error:") and message in err and "\n" not in err
    assert not out.exists()


@pytest.mark.skipif(not have_icarus(), reason="Icarus Verilog (iverilog) is not installed")
def test_hdl_test_runs_random_networks(capsys):
    assert main(["hdl", "test", "--spec-json", SMALL, "--networks", "1", "--steps", "20"]) == 0
    out = capsys.readouterr().out
    assert "identical to the simulator" in out and "matches the formula" in out


@pytest.mark.skipif(not have_icarus(), reason="Icarus Verilog (iverilog) is not installed")
def test_hdl_test_network_file_formula_and_failure(capsys, monkeypatch):
    """A network file on a small core whose cycles differ from a (wrong) formula: exit 1."""
    from hdl import timing
    from hdl.testing import timing_check

    net = str(Path(__file__).resolve().parent / "networks" / "silent.toml")
    small = json.dumps({"max_inputs": 4, "max_neurons": 4})
    monkeypatch.setattr(timing_check, "step_cycles", lambda *a, **k: timing.step_cycles(*a, **k) + 1)
    assert main(["hdl", "test", net, "--spec-json", small, "--steps", "4"]) == 1
    captured = capsys.readouterr()
    assert "DIFFERS from the formula" in captured.out
    assert "differs from the Verilog at 4 steps, first at step 0" in captured.err
