"""Conformance of the core with the simulator's fixed mode, over any transport.

``run_network(session, network, quantized, n_steps)`` loads the network into a core through
its command stream, runs it step by step with the network's input spikes and compares
spikes, ``v``/``i_e``/``i_i``/``ref`` at every step and the final weights with the
reference: ``snn.Simulator`` in fixed mode for the state and weights, the slow
``snn/testing/reference_core.py`` for the spikes of each step. A mismatch
raises ``AssertionError`` naming the first differing step, neuron and variable.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from firmware_host.memory_map import Region, core_image
from hdl.driver import CoreSession
from snn.core_spec import CoreSpec
from snn.quantize import QuantizedNetwork


def on_core(quantized: QuantizedNetwork, spec: CoreSpec) -> QuantizedNetwork:
    """The same integers laid out for a core of ``spec``'s sizes (widths must agree)."""
    return dataclasses.replace(quantized, spec=spec)


def plastic_blocks_complete(quantized: QuantizedNetwork) -> bool:
    """True when every plastic row x column block of the network holds a synapse per pair.

    The core enables STDP per row and per column: a pair without a synapse inside a
    plastic block would learn in the core but not in the network.
    """
    b = quantized.built
    n = b.n_neurons
    pre = np.repeat(np.arange(b.syn_ptr.size - 1), np.diff(b.syn_ptr))
    for mask in (pre < n, pre >= n):
        plastic = mask & (b.syn_rule >= 0)
        if plastic.any():
            rows, cols = np.unique(pre[plastic]), np.unique(b.syn_post[plastic])
            if plastic.sum() != rows.size * cols.size:
                return False
    return True


class Reference:
    """The fixed-mode simulator, stepped one timestep at a time."""

    def __init__(self, network, quantized: QuantizedNetwork):
        from snn import Simulator

        self.sim = Simulator(network, mode="fixed", quantized=quantized, progress=False)

    def step(self) -> dict:
        self.sim.run(1)
        return self.sim.state


def inputs_of(quantized: QuantizedNetwork, step: int) -> np.ndarray:
    """Input indices spiking at ``step``."""
    b = quantized.built
    if step + 1 >= b.input_ptr.size:
        return np.zeros(0, np.int64)
    return b.input_ids[b.input_ptr[step] : b.input_ptr[step + 1]]


async def run_network(
    session: CoreSession, network, quantized: QuantizedNetwork, n_steps: int, *, check_every: int = 1
) -> dict:
    """Run ``n_steps`` on the core and on the references; assert they agree. Returns counts."""
    from snn.testing.reference_core import ReferenceCore

    spec = session.spec
    q = on_core(quantized, spec)
    b = q.built
    n, n_src = b.n_neurons, b.n_sources
    await session.load(core_image(q))
    ref = Reference(network, quantized)
    slow = ReferenceCore(quantized)
    total_spikes = 0
    for t in range(n_steps):
        step, spikes = await session.step(inputs_of(q, t))
        assert step == t, f"core reported step {step}, expected {t}"
        want = slow.step()
        if sorted(spikes) != want:
            extra = sorted(set(spikes) ^ set(want))
            raise AssertionError(
                f"step {t}: spikes differ at neuron {extra[0]}: core {sorted(spikes)}, reference {want}"
            )
        total_spikes += len(spikes)
        expected = ref.step()
        if (t + 1) % check_every and t != n_steps - 1:
            continue
        got = await session.neuron_state(n)
        for var in ("v", "i_e", "i_i", "ref"):
            diff = np.flatnonzero(got[var] != expected[var])
            if diff.size:
                j = int(diff[0])
                raise AssertionError(
                    f"step {t}: neuron {j}: {var} = {got[var][j]} in the core, {expected[var][j]} in the simulator"
                )
    final = on_core(dataclasses.replace(quantized, weight=expected["weight"]), spec)
    image = core_image(final)
    for region, want_w, rows in ((Region.FF_WEIGHT, image.ff, n_src), (Region.REC_WEIGHT, image.rec, n)):
        got_w = await session.weights(region, rows, n)
        diff = np.argwhere(got_w != want_w[:, :n])
        if diff.size:
            r, c = (int(x) for x in diff[0])
            raise AssertionError(
                f"after step {n_steps - 1}: {region.name} weight [{r}, {c}] = {got_w[r, c]} in the core, "
                f"{want_w[r, c]} in the simulator"
            )
    return {"spikes": total_spikes, "inputs": int(b.input_ptr[min(n_steps, b.input_ptr.size - 1)])}


def load_case(case: dict):
    """``(network, quantized)`` of a case: ``{"seed", "stdp", "max_inputs", "max_neurons", "steps"}``
    (a random network; with ``"spec"``, quantized for that CoreSpec's widths) or
    ``{"network": path, "steps"}`` (a network file, quantized for the default core, or with
    ``"spec"`` for that CoreSpec)."""
    from snn import io, quantize

    if "network" in case:
        network = io.load(case["network"])
        spec = CoreSpec.from_dict(case["spec"]) if "spec" in case else CoreSpec()
        return network, quantize(network, spec, require_fit=True)
    from snn.testing.random_networks import random_case, random_network

    if "spec" in case and CoreSpec.from_dict(case["spec"]) != CoreSpec(
        max_inputs=case["spec"]["max_inputs"],
        max_neurons=case["spec"]["max_neurons"],
        stdp=case["spec"]["stdp"],
    ):
        import warnings

        network = random_network(
            case["seed"],
            stdp=case["stdp"],
            max_inputs=case.get("max_inputs", 12),
            max_neurons=case.get("max_neurons", 12),
            n_steps=case["steps"],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return network, quantize(network, CoreSpec.from_dict(case["spec"]), clip=True, require_fit=False)
    return random_case(
        case["seed"],
        stdp=case["stdp"],
        max_inputs=case.get("max_inputs", 12),
        max_neurons=case.get("max_neurons", 12),
        n_steps=case["steps"],
    )
