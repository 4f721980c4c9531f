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
