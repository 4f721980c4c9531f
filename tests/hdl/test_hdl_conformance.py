"""Tier 3: the core and the simulator's fixed mode agree on random networks, step by step.

Twenty random networks (snn/testing/random_networks.py, 4-8 neurons and inputs, 100 steps, STDP
on and off) run in the Amaranth simulator, half of them on a core of one lane, half on two
(``CoreSpec.lanes``); two of them (one on two lanes), and the cycle formula of
docs/core-hardware.md, also on the exported Verilog under cocotb + Icarus, and the network
files on either lane count. The seeds
were chosen (see ``test_cases_exercise_the_arithmetic``) so that refractory holds,
saturation of ``v`` and of the currents, depression, potentiation and both weight bounds
all happen.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
from pysim import run_core

from hdl.testing.cocotb_run import have_icarus, run_cocotb
from hdl.testing.conformance import load_case, plastic_blocks_complete, run_network
from hdl.testing.timing_check import predicted
from snn import CoreSpec
from snn.testing.reference_core import ReferenceCore

SPEC = CoreSpec(max_inputs=8, max_neurons=8)
LANES = (1, 2)  # every lane count the core supports (2: the largest default, ECP5's)
STEPS = 100
STDP_SEEDS = (1, 6, 9, 12, 16, 18, 27, 28, 30, 39)
STATIC_SEEDS = (20, 21, 25, 27, 28, 30, 33, 34, 36, 39)
CASES = [
    {"seed": s, "stdp": stdp, "steps": STEPS, "max_inputs": 8, "max_neurons": 8}
    for stdp, seeds in ((True, STDP_SEEDS), (False, STATIC_SEEDS))
    for s in seeds
]
CHUNKS = 4
# network files on a core larger than each network (16 x 16: the learning engine's reset
# pass, K + 3 N cycles, is longer than the neuron engine's), on the Verilog
NETWORKS = Path(__file__).resolve().parent / "networks"
FILE_SPEC = CoreSpec(max_inputs=16, max_neurons=16)
FILE_STEPS = 30
FILES = sorted(NETWORKS.glob("*.toml")) + [
    Path(__file__).resolve().parents[2] / "examples" / "networks" / "board_demo.toml"
]


def test_cases_exercise_the_arithmetic():
    counts = Counter()
    for case in CASES:
        _, q = load_case(case)
        assert plastic_blocks_complete(q)
        core = ReferenceCore(q)
        core.run(STEPS)
        counts.update(core.counts)
    for event in ("spikes", "spikes_with_hold", "frozen", "sat_v", "sat_i", "depressed", "potentiated"):
        assert counts[event] > 0, event
    assert counts["at_w_min"] > 0 and counts["at_w_max"] > 0


@pytest.mark.slow(seconds=70)
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_conformance_amaranth_sim(chunk):
    # each chunk holds STDP and static cases; the odd ones run on two lanes
    spec = dataclasses.replace(SPEC, lanes=LANES[chunk % len(LANES)])
    for case in CASES[chunk::CHUNKS]:
        network, q = load_case(case)

        async def body(session, ctx, network=network, q=q):
            return await run_network(session, network, q, STEPS)

        run_core(spec, body)


@pytest.mark.skipif(not have_icarus(), reason="Icarus Verilog (iverilog) is not installed")
@pytest.mark.parametrize("lanes", LANES)
def test_conformance_verilog_cocotb(tmp_path, lanes):
    spec = dataclasses.replace(SPEC, lanes=lanes)
    cases = [CASES[3], CASES[len(STDP_SEEDS) + 6]]  # seed 12 with STDP, seed 33 without
    if lanes > 1:
        cases = cases[:1]  # (the STDP case: the lanes change the schedule of both engines)
    results = run_cocotb(spec, cases, tmp_path)
    assert len(results) == len(cases)
    for result in results:
        assert result["spikes"] > 0
        assert_formula(spec, result)


def assert_formula(spec, result):
    """Every step's measured cycles equal :func:`hdl.timing.step_cycles`."""
    for step, (cycles, (spikes, inputs)) in enumerate(zip(result["cycles"], result["events"], strict=True)):
        formula = predicted(spec, result["case"], spikes, inputs)
        assert cycles == formula, (
            f"{result['case']}: step {step}: {cycles} cycles measured, formula {formula}"
        )


@pytest.mark.skipif(not have_icarus(), reason="Icarus Verilog (iverilog) is not installed")
@pytest.mark.parametrize("lanes", LANES)
def test_network_files_verilog_cycles(tmp_path, lanes):
    """Edge-case network files and an example: identical to the simulator, cycles = formula
    (the files alternate between the lane counts)."""
    spec = dataclasses.replace(FILE_SPEC, lanes=lanes)
    files = FILES[LANES.index(lanes) :: len(LANES)]
    cases = [{"network": str(path), "steps": FILE_STEPS} for path in files]
    results = run_cocotb(spec, cases, tmp_path)
    assert len(results) == len(cases)
    for result in results:
        assert_formula(spec, result)
