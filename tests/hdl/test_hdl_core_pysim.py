"""The whole core in the Amaranth simulator, driven through its command stream."""

from __future__ import annotations

from pysim import run_core

from firmware_host.memory_map import Control, Region
from snn import CoreSpec

SPEC = CoreSpec(max_inputs=16, max_neurons=16)


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


def test_core_without_learning_engine():
    from hdl.testing.conformance import load_case, run_network

    network, q = load_case({"seed": 33, "stdp": False, "steps": 40, "max_inputs": 8, "max_neurons": 8})

    async def body(session, ctx):
        return await run_network(session, network, q, 40)

    assert run_core(CoreSpec(max_inputs=8, max_neurons=8, stdp=False), body)["spikes"] > 0
