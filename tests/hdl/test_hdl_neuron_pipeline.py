"""Tier 1: the wide core's pipelined neuron engine alone, against the document's phases 1-2.

Its state and accumulator memories behave as the core's ``BlockMemory(exclusive=False)``
(``collide``): a read that meets a write of its own word returns the word inverted, so a
pipeline hazard fails the bit-exact comparison. The engine reads its parameters at the
state's read address (as the core's width-grouped memories need), so the state memory's
check covers them too.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from engine_bench import Bench, run
from test_hdl_engines import SPEC, neuron_reference, pack, random_neurons, unpack

from hdl.memories import acc_layout, param_layout, state_layout
from hdl.neuron_pipeline import PipelinedNeuronEngine, pipelined_neuron_cycles


def acc_words(spec, acc: list[dict]) -> list[int]:
    """The accumulators ``acc`` (one dict a neuron) as words of ``spec.lanes`` neurons."""
    a, P = acc_layout(spec), spec.lanes
    lanes = pack(a, acc)
    return [sum(lanes[w * P + k] << (k * a.size) for k in range(P)) for w in range(len(lanes) // P)]


def acc_lanes(spec, words: list[int]) -> list[dict]:
    a = acc_layout(spec)
    mask = (1 << a.size) - 1
    return unpack(a, [(word >> (k * a.size)) & mask for word in words for k in range(spec.lanes)])


def pipeline_run(spec, params, state, acc, setup, *, reset=False):
    n = spec.max_neurons
    p, s, a = param_layout(spec), state_layout(spec), acc_layout(spec)
    bench = Bench(
        PipelinedNeuronEngine(spec),
        {
            "param": (n, p.size, p.lanes, pack(p, params)),
            "state": (n, s.size, s.lanes, pack(s, state)),
            "acc": (n // spec.lanes, spec.lanes * a.size, spec.lanes, acc_words(spec, acc)),
            "spike": (n, (n - 1).bit_length(), 1, []),
        },
        collide=("state", "acc"),
    )
    out = run(bench, setup, reset=reset, outputs=("spike_count",))
    out["state"] = unpack(s, out["memories"]["state"])
    out["acc"] = acc_lanes(spec, out["memories"]["acc"])
    return out


# (lanes, max_neurons, n_neurons): partial last words (7 of 8, 5 of 8 with four lanes, 6 of
# 16 with eight), full words, a single neuron, none
CASES = [(4, 8, 7), (4, 8, 5), (4, 8, 8), (8, 16, 6), (4, 8, 1), (4, 8, 0)]


@pytest.mark.parametrize(("lanes", "n_max", "n"), CASES)
def test_pipelined_neuron_engine_matches_the_document(lanes, n_max, n):
    spec = replace(SPEC, max_neurons=n_max, lanes=lanes)
    rng = np.random.default_rng(10 * lanes + n)
    shifts = (0, 3, spec.max_weight_shift) if n == 7 else (5,)
    for shift in shifts:
        params, state, acc = random_neurons(rng, spec, n_max)
        out = pipeline_run(spec, params, state, acc, {"n_neurons": n, "weight_shift": shift})
        spikes = []
        for j in range(n):
            want, spike = neuron_reference(spec, params[j], state[j], acc[j], shift)
            assert out["state"][j] == want, f"neuron {j}, shift {shift}"
            if spike:
                spikes.append(j)
        # neurons beyond n_neurons are left alone, their accumulator lanes included
        assert out["state"][n:] == state[n:]
        assert out["acc"][n:] == acc[n:]
        assert all(x == {"e": 0, "i": 0} for x in out["acc"][:n])  # consumed
        assert out["spike_count"] == len(spikes)
        assert out["memories"]["spike"][: len(spikes)] == spikes
        assert out["cycles"] == pipelined_neuron_cycles(n) == n + 4


def test_pipelined_neuron_engine_spikes_and_refractory_holds():
    """Many spikes (thresholds far below v) beside frozen neurons (counter >= 2), whose v holds."""
    spec = replace(SPEC, lanes=4)
    rng = np.random.default_rng(7)
    n = spec.max_neurons
    params, state, acc = random_neurons(rng, spec, n)
    for j in range(n):
        if j % 2 == 0:  # the lowest threshold: spikes unless frozen
            params[j]["v_thresh"] = -(1 << (spec.v_bits - 1))
        state[j]["ref"] = j % 4  # 2, 3: frozen this step
        params[j]["ref_steps"] = 5
    out = pipeline_run(spec, params, state, acc, {"n_neurons": n, "weight_shift": 2})
    spikes = []
    for j in range(n):
        want, spike = neuron_reference(spec, params[j], state[j], acc[j], 2)
        assert out["state"][j] == want, f"neuron {j}"
        spikes += [j] if spike else []
    frozen = [j for j in range(n) if state[j]["ref"] >= 2]
    assert all(out["state"][j]["v"] == state[j]["v"] and j not in spikes for j in frozen)
    assert all(j in spikes for j in range(0, n, 2) if j not in frozen)
    assert out["memories"]["spike"][: len(spikes)] == spikes
    assert out["spike_count"] == len(spikes)


@pytest.mark.parametrize("n", [6, 8])
def test_pipelined_neuron_engine_reset_pass(n):
    spec = replace(SPEC, lanes=4)
    rng = np.random.default_rng(20 + n)
    params, state, acc = random_neurons(rng, spec, spec.max_neurons)
    out = pipeline_run(spec, params, state, acc, {"n_neurons": n, "weight_shift": 3}, reset=True)
    assert out["state"][:n] == [{"v": p["v_init"], "i_e": 0, "i_i": 0, "ref": 0} for p in params[:n]]
    assert out["state"][n:] == state[n:]
    assert all(x == {"e": 0, "i": 0} for x in out["acc"][:n])
    assert out["acc"][n:] == acc[n:]
    assert out["spike_count"] == 0
    assert out["cycles"] == pipelined_neuron_cycles(n)
