"""Report parsing and derived figures on logs captured from real builds (fixtures/)."""

import json
import shutil
from pathlib import Path

import pytest

from hdl.fpga.figures import Figures, worst_step_cycles
from hdl.fpga.pll import plan
from hdl.fpga.report import parse_nextpnr_json, parse_nextpnr_log, parse_yosys_stat, read_report
from hdl.timing import step_cycles
from snn.core_spec import CoreSpec
from snn.errors import NetworkError

FIXTURES = Path(__file__).parent / "fixtures"


def test_nextpnr_json_report():
    util, fmax, target = parse_nextpnr_json(json.loads((FIXTURES / "ecp5_report.json").read_text()))
    assert util["TRELLIS_COMB"] == (7709, 24288)
    assert util["DP16KD"] == (2, 56)
    assert util["MULT18X18D"] == (8, 28)
    assert fmax == pytest.approx(33.17, abs=0.01)
    assert target == 25


def test_nextpnr_log_keeps_the_routed_fmax():
    util, fmax, target, error = parse_nextpnr_log((FIXTURES / "ecp5_nextpnr.log").read_text())
    assert util["TRELLIS_FF"] == (1781, 24288)
    assert (fmax, target, error) == (pytest.approx(33.17, abs=0.01), 25.0, None)


def test_nextpnr_log_of_a_design_that_does_not_fit():
    util, fmax, _, error = parse_nextpnr_log((FIXTURES / "ice40_overflow_nextpnr.log").read_text())
    assert util["ICESTORM_LC"] == (8465, 5280)
    assert util["ICESTORM_SPRAM"] == (0, 4)
    assert fmax is None
    assert "ICESTORM_DSP" in error


@pytest.mark.parametrize(
    "name, expected",
    [
        ("ice40_yosys_stat.log", {"SB_LUT4": 6448, "SB_CARRY": 1635, "SB_DFFESR": 1468, "SB_MAC16": 9}),
        ("ecp5_yosys_stat.log", {"LUT4": 4809, "TRELLIS_FF": 1781, "DP16KD": 2, "CCU2C": 889}),
    ],
)
def test_yosys_stat(name, expected):
    cells = parse_yosys_stat((FIXTURES / name).read_text())
    assert {k: cells[k] for k in expected} == expected
    assert "submodules" not in cells and "cells" not in cells


def test_yosys_stat_old_format():
    text = "Printing statistics.\n\n=== top ===\n\n   Number of cells:   12\n     SB_LUT4   10\n     SB_DFF    2\n"
    assert parse_yosys_stat(text) == {"SB_LUT4": 10, "SB_DFF": 2}


def test_read_report_of_a_failed_ice40_build(tmp_path):
    shutil.copy(FIXTURES / "ice40_overflow_nextpnr.log", tmp_path / "top.tim")
    shutil.copy(FIXTURES / "ice40_yosys_stat.log", tmp_path / "top.rpt")
    report = read_report(tmp_path, "top", "ice40")
    assert report.used("logic") == 8465 and report.available("logic") == 5280
    assert report.luts == 6448
    assert report.ffs == 249 + 353 + 1468 + 239
    assert report.overflow()["ICESTORM_LC"] == pytest.approx(8465 / 5280)
    assert not report.fits()
    assert report.timing_met is None


def test_read_report_of_an_ecp5_build(tmp_path):
    shutil.copy(FIXTURES / "ecp5_nextpnr.log", tmp_path / "top.tim")
    shutil.copy(FIXTURES / "ecp5_report.json", tmp_path / "report.json")
    shutil.copy(FIXTURES / "ecp5_yosys_stat.log", tmp_path / "top.rpt")
    report = read_report(tmp_path, "top", "ecp5")
    assert report.fits() and report.timing_met
    d = report.to_dict()
    assert d["luts"] == 4809 and d["ffs"] == 1781 and d["bram"] == {"used": 2, "available": 56}


def test_figures_use_the_timing_formula():
    spec = CoreSpec()
    f = Figures(spec, 25e6, 33e6, 0.1)
    s = i = 26  # ceil(0.1 * 256)
    assert f.step_cycles == step_cycles(
        256,
        256,
        s,
        i,
        stdp=True,
        ff_rule=True,
        rec_rule=True,
        ltd_ff_rows=i,
        ltd_rec_rows=s,
        ltp_ff_cols=s,
        ltp_rec_cols=s,
    )
    # 52 rows propagated; LTD rows of 26 inputs and 26 neurons, LTP columns of 26 neurons twice
    synops = 52 * 256 + 26 * 256 * 4
    assert f.synops_per_cycle == pytest.approx(synops / f.step_cycles)
    assert f.synops_per_s(25e6) == pytest.approx(25e6 * synops / f.step_cycles)
    assert f.realtime_factor(1e-3, 25e6) == pytest.approx(1e-3 * 25e6 / f.step_cycles)
    assert worst_step_cycles(CoreSpec(stdp=False), 0.0) == step_cycles(256, 256, 0, 0, stdp=False)
    d = f.to_dict()
    assert set(d) >= {"step_us_clock", "realtime_1ms_fmax", "synops_per_s_fmax", "by_activity"}
    assert set(d["by_activity"]) == {"0.01", "0.1", "0.3"}
    assert d["by_activity"]["0.1"]["step_cycles"] == f.step_cycles
    assert d["by_activity"]["0.3"]["step_cycles"] > f.step_cycles > d["by_activity"]["0.01"]["step_cycles"]
    for each in d["by_activity"].values():
        assert set(each) >= {"synops_per_cycle", "realtime_1ms_clock", "realtime_100us_clock", "step_us_fmax"}


@pytest.mark.parametrize(
    "family, fin, fout", [("ice40", 12e6, 30e6), ("ecp5", 25e6, 50e6), ("ecp5", 25e6, 40e6)]
)
def test_pll_plans_reach_the_clock(family, fin, fout):
    settings, reached = plan(family, int(fin), int(fout))
    assert abs(reached - fout) / fout < 0.01
    if family == "ice40":
        assert reached == fin * (settings["DIVF"] + 1) / ((settings["DIVR"] + 1) * 2 ** settings["DIVQ"])
    else:
        assert reached == fin * settings["CLKFB_DIV"] / settings["CLKI_DIV"]


def test_two_lanes_figures_and_board_defaults():
    """Two lanes (ECP5's default): half the propagation cycles, the FF and REC walks side by
    side, two synapses a cycle each; a build takes the board's lanes unless the CoreSpec names them."""
    import argparse

    from hdl.fpga import boards
    from hdl.fpga.command import names_lanes

    one, two = (Figures(CoreSpec(lanes=lanes), 25e6, None, 0.1) for lanes in (1, 2))
    # overhead; the 26 input rows of 128 pairs (+2 each) beside the neuron engine (6 per
    # neuron), then the 26 neuron rows; output; then the longer engine: FF: overhead, bumps
    # (inputs 3, neurons 3), 26 rows and 26 columns of 256 synapses walked two a cycle (128,
    # +3 each); REC: overhead - 1, bumps 4, 52 lines of 128 pairs (+3 each); their start,
    # decay (K + N, 2N) and drain, 5 cycles, during the neuron and synapse phases
    s = i = 26
    ff = 16 + 3 * i + 3 * s + (3 + 128) * (i + s) - 5
    rec = 15 + 4 * s + (3 + 128) * 2 * s - 5
    phases = max(i * 130 + 6, 6 * 256 + 7) + s * 130
    assert two.step_cycles == 5 + phases + 2 * s + max(ff, rec) == 13_802
    assert two.step_cycles < 0.55 * one.step_cycles
    # eight lanes (the wide core): the neuron engine done at N + 5; the FF engine decays
    # (32 + 32 words + 3), walks the 26 input rows (3 + 32 chunks each), then, the neurons
    # done, the 26 columns (3 + 32) and bumps (3 per input and per neuron); the REC engine,
    # into accumulators of its own, walks the 26 neuron rows once the neurons are done, then
    # the 26 columns, then bumps
    wide = Figures(CoreSpec(lanes=8), 25e6, None, 0.1)
    rows_ff = 3 + (32 + 32 + 3) + i * (3 + 32)
    ff = max(rows_ff, 256 + 5) + 5 + s * (3 + 32) + 3 * i + 3 * s
    rows_rec = max(1 + (2 * 32 + 3), 256 + 5) + 1 + s * (3 + 32)
    rec = rows_rec + 5 + s * (3 + 32) + 3 * s
    assert wide.step_cycles == 5 + max(ff, rec) + 2 * s == 2_222
    assert wide.realtime_factor(1e-4, 25e6) > 1  # issue 13's ECP5 bar: dt 0.1 ms at 25 MHz
    assert CoreSpec(lanes=2) == CoreSpec() == CoreSpec(lanes=16)  # a schedule: the same arithmetic
    assert boards.get("icebreaker").lanes == 1
    assert boards.get("ulx3s-85f").lanes == boards.get("ulx3s-45f").lanes == 8
    args = argparse.Namespace(spec_json='{"lanes": 1}', target=None)
    assert names_lanes(args) and not names_lanes(argparse.Namespace(spec_json="{}", target=None))
    with pytest.raises(NetworkError, match="lanes"):
        CoreSpec(lanes=3)


def test_board_lanes_fit_the_sizes(tmp_path, monkeypatch):
    """A ULX3S build takes the board's lanes, or the most the CoreSpec's sizes allow: one lane
    when max_neurons is not a power of two, two when max_inputs is no multiple of 4, else as
    many as divide max_inputs and are at most max_neurons."""
    import argparse

    from hdl.fpga import command

    class Built(Exception):
        pass

    seen = []

    def fake_build(spec, *args, **kwargs):
        seen.append(spec)
        raise Built

    monkeypatch.setattr(command, "build", fake_build)
    for inputs, neurons, lanes in ((8, 12, 1), (6, 8, 2), (8, 16, 8), (32, 32, 8), (32, 4, 4)):
        args = argparse.Namespace(
            board="ulx3s-85f", spec_json="{}", target=None, output=tmp_path, clock_mhz=None, baud=1_000_000
        )
        with pytest.raises(Built):
            command.run_build(args, CoreSpec(max_inputs=inputs, max_neurons=neurons))
        assert seen[-1].lanes == lanes
