"""Tier 3: the core and the simulator's fixed mode agree on random networks, step by step.

Twenty random networks (tests/random_networks.py, 4-8 neurons and inputs, 100 steps, STDP
on and off) run in the Amaranth simulator; two of them, and the cycle formula of
docs/core-hardware.md, also on the exported Verilog under cocotb + Icarus. The seeds
were chosen (see ``test_cases_exercise_the_arithmetic``) so that refractory holds,
saturation of ``v`` and of the currents, depression, potentiation and both weight bounds
all happen.
"""

from __future__ import annotations

from collections import Counter

import pytest
from cocotb_run import have_icarus, run_cocotb
from conformance import load_case, plastic_blocks_complete, run_network
from pysim import run_core
from reference_core import ReferenceCore
from timing_check import predicted

from snn import CoreSpec

SPEC = CoreSpec(max_inputs=8, max_neurons=8)
STEPS = 100
STDP_SEEDS = (1, 6, 9, 12, 16, 18, 27, 28, 30, 39)
STATIC_SEEDS = (20, 21, 25, 27, 28, 30, 33, 34, 36, 39)
CASES = [
    {"seed": s, "stdp": stdp, "steps": STEPS, "max_inputs": 8, "max_neurons": 8}
    for stdp, seeds in ((True, STDP_SEEDS), (False, STATIC_SEEDS))
    for s in seeds
]
CHUNKS = 4


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


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_conformance_amaranth_sim(chunk):
    for case in CASES[chunk::CHUNKS]:
        network, q = load_case(case)

        async def body(session, ctx, network=network, q=q):
            return await run_network(session, network, q, STEPS)

        run_core(SPEC, body)


@pytest.mark.skipif(not have_icarus(), reason="Icarus Verilog (iverilog) is not installed")
def test_conformance_verilog_cocotb(tmp_path):
    cases = [CASES[3], CASES[len(STDP_SEEDS) + 6]]  # seed 12 with STDP, seed 33 without
    results = run_cocotb(SPEC, cases, tmp_path)
    assert len(results) == len(cases)
    for result in results:
        assert result["spikes"] > 0
        for step, (cycles, (spikes, inputs)) in enumerate(
            zip(result["cycles"], result["events"], strict=True)
        ):
            assert cycles == predicted(SPEC, result["case"], spikes, inputs), f"step {step}"
