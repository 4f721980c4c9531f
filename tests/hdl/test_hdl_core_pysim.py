"""The whole core in the Amaranth simulator, driven through its command stream."""

from __future__ import annotations

import pytest
from conformance import plastic_blocks_complete, run_network
from pysim import run_core
from random_networks import random_case

from firmware_host.memory_map import Control, Region
from snn import CoreSpec

SPEC = CoreSpec(max_inputs=16, max_neurons=16)


def complete_cases(stdp: bool, count: int, *, start: int = 0, **kw):
    """The first ``count`` random networks whose plastic blocks the core represents exactly."""
    seed = start
    while count:
        net, q = random_case(seed, stdp=stdp, **kw)
        if plastic_blocks_complete(q):
            yield seed, net, q
            count -= 1
        seed += 1


@pytest.mark.parametrize("stdp", [False, True])
def test_core_matches_simulator(stdp):
    for _seed, net, q in complete_cases(stdp, 2, max_inputs=12, max_neurons=12, n_steps=40):

        async def body(session, ctx, net=net, q=q):
            return await run_network(session, net, q, 40)

        assert run_core(SPEC, body)["inputs"] > 0


def test_registers_read_back():
    async def body(session, ctx):
        await session.write(Region.CONTROL, Control.N_NEURONS, [99])  # clipped to max_neurons
        await session.write(Region.FF_WEIGHT, 5, [-7])
        await session.write(Region.NEURON_PARAM, 3 * 16 + 5, [12345])
        await session.step()
        await session.step()
        return {
            "steps": await session.read(Region.CONTROL, Control.STEP_COUNT),
            "n": await session.read(Region.CONTROL, Control.N_NEURONS),
            "w": await session.read(Region.FF_WEIGHT, 5),
            "k_m": await session.read(Region.NEURON_PARAM, 3 * 16 + 5),
        }

    out = run_core(SPEC, body)
    assert out == {"steps": [2], "n": [16], "w": [-7], "k_m": [12345]}
