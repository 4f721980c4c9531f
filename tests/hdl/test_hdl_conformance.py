"""Tier 3: the core and the simulator's fixed mode agree on random networks, step by step.

Twenty random networks (snn/testing/random_networks.py, 4-8 neurons and inputs, 100 steps, STDP
on and off) run in the Amaranth simulator, each once on a core of one, two or four lanes
(``CoreSpec.lanes``; four: the wide core of skewed weight banks), and two of them again on a
16 x 16 core of sixteen lanes (the largest default, ULX3S-85F's); the cases of each lane count
make every arithmetic event happen. One of them (two on one lane), and the cycle formula of
docs/core-hardware.md at every step, also on the exported Verilog under cocotb + Icarus for
each of those lane counts, and the network files, alternating over every lane count (eight,
the 45F's, among them), on a 16 x 16 core. The seeds were chosen (see
``test_cases_exercise_the_arithmetic``) so that refractory holds, saturation of ``v`` and of
the currents, depression, potentiation and both weight bounds all happen.
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
# the lane counts of the Amaranth simulator's and the Verilog's random networks: the engines of
# one and two lanes, the wide core's smallest and its largest default (ULX3S-85F's)
LANES = (1, 2, 4, 16)
STEPS = 100
STDP_SEEDS = (1, 6, 9, 12, 16, 18, 27, 28, 30, 39)
STATIC_SEEDS = (20, 21, 25, 27, 28, 30, 33, 34, 36, 39)
CASES = [
    {"seed": s, "stdp": stdp, "steps": STEPS, "max_inputs": 8, "max_neurons": 8}
    for stdp, seeds in ((True, STDP_SEEDS), (False, STATIC_SEEDS))
    for s in seeds
]
# (lanes, indices into CASES): every case once on one, two or four lanes, seeds 18 (STDP) and
# 33 (static) again on sixteen; chunks of about 20 s (2-core machine, busy)
CHUNKS = [
    (1, (0, 5, 19)),
    (1, (8, 10, 13, 17)),
    (2, (1, 2, 6)),
    (2, (11, 14, 18)),
    (4, (3, 4, 7)),
    (4, (9, 12, 15, 16)),
    (16, (5,)),
    (16, (16,)),
]
VERILOG_CASES = (3, len(STDP_SEEDS) + 6)  # seed 12 with STDP, seed 33 without
VERILOG_LANES = LANES
# network files on a core larger than each network (16 x 16: the learning engine's reset
# pass, K + 3 N cycles, is longer than the neuron engine's), on the Verilog
NETWORKS = Path(__file__).resolve().parent / "networks"
FILE_SPEC = CoreSpec(max_inputs=16, max_neurons=16)
FILE_STEPS = 30
FILES = sorted(NETWORKS.glob("*.toml")) + [
    Path(__file__).resolve().parents[2] / "examples" / "networks" / "board_demo.toml"
]
FILE_LANES = (1, 2, 4, 8, 16)  # every lane count (the files alternate between them)


def spec_of(lanes: int) -> CoreSpec:
    """The random networks' core of ``lanes`` lanes: 8 x 8, or 16 x 16 for sixteen lanes (a
    wide core's max_inputs and max_neurons are multiples of its lanes)."""
    return dataclasses.replace(FILE_SPEC if lanes > 8 else SPEC, lanes=lanes)


def test_cases_exercise_the_arithmetic():
    counts = {lanes: Counter() for lanes in LANES}
    for case in CASES:
        _, q = load_case(case)
        assert plastic_blocks_complete(q)
    for lanes, indices in CHUNKS:
        for i in indices:
            core = ReferenceCore(load_case(CASES[i])[1])
            core.run(STEPS)
            counts[lanes].update(core.counts)
    # every case runs on one of the lane counts 1, 2 and 4
    assert sorted(i for lanes, indices in CHUNKS if lanes < 8 for i in indices) == list(range(len(CASES)))
    for lanes in LANES:  # and each lane count sees every event
        for event in ("spikes", "spikes_with_hold", "frozen", "sat_v", "sat_i", "depressed", "potentiated"):
            assert counts[lanes][event] > 0, (lanes, event)
        assert counts[lanes]["at_w_min"] > 0 and counts[lanes]["at_w_max"] > 0, lanes


@pytest.mark.slow(seconds=25)
@pytest.mark.parametrize(
    ("lanes", "indices"), CHUNKS, ids=[f"lanes{lanes}-cases{'-'.join(map(str, i))}" for lanes, i in CHUNKS]
)
def test_conformance_amaranth_sim(lanes, indices):
    spec = spec_of(lanes)
    for i in indices:
        network, q = load_case(CASES[i])

        async def body(session, ctx, network=network, q=q):
            return await run_network(session, network, q, STEPS)

        run_core(spec, body)


@pytest.mark.skipif(not have_icarus(), reason="Icarus Verilog (iverilog) is not installed")
@pytest.mark.parametrize("lanes", VERILOG_LANES)
def test_conformance_verilog_cocotb(tmp_path, lanes):
    spec = spec_of(lanes)
    cases = [CASES[i] for i in VERILOG_CASES]
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
@pytest.mark.parametrize("lanes", FILE_LANES)
def test_network_files_verilog_cycles(tmp_path, lanes):
    """Edge-case network files and an example: identical to the simulator, cycles = formula
    (the files alternate between the lane counts)."""
    spec = dataclasses.replace(FILE_SPEC, lanes=lanes)
    files = FILES[FILE_LANES.index(lanes) :: len(FILE_LANES)]
    cases = [{"network": str(path), "steps": FILE_STEPS} for path in files]
    results = run_cocotb(spec, cases, tmp_path)
    assert len(results) == len(cases)
    for result in results:
        assert_formula(spec, result)
