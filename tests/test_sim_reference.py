"""The numba fixed-point simulator against the plain-Python reference core, step by step.

Both run the same quantized random network (snn/testing/random_networks.py); after every step
the whole state (v, i_e, i_i, ref, STDP traces, weights) must be identical, and so must
the spike rasters. A failure names the first differing step, variable and index.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import snn
from snn.testing.random_networks import random_case
from snn.testing.reference_core import ReferenceCore

KEYS = ("v", "i_e", "i_i", "ref", "x", "y", "weight")

# (seed, stdp, max neurons = max inputs, steps, max_delay)
CASES = [(seed, True, 64, 400, 4 if seed in (3, 7) else 1) for seed in range(9)]
CASES += [(9, True, 256, 200, 1)]
CASES += [(seed, False, 64, 400, 4 if seed in (13, 16) else 1) for seed in range(10, 19)]
CASES += [(19, False, 256, 200, 1)]

# events counted by the reference in each case (filled by the tests; the last test checks
# that the suite as a whole exercises them)
COUNTS: dict[int, Counter] = {}
EXTREMES: dict[int, tuple[int, int]] = {}


def _case(seed: int, stdp: bool, size: int, steps: int, max_delay: int):
    return random_case(
        seed,
        stdp=stdp,
        max_inputs=size,
        max_neurons=size,
        n_steps=steps,
        max_delay=max_delay,
        full=size == 256,
    )


def _first_difference(step: int, key: str, got: np.ndarray, want: np.ndarray) -> str | None:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"step {step}: {key} has shape {got.shape} in the simulator, {want.shape} in the reference"
    if got.dtype.kind not in "iu":
        return f"step {step}: {key} is {got.dtype} in the simulator's fixed mode, expected integers"
    diff = np.argwhere(got != want)
    if diff.size == 0:
        return None
    idx = tuple(int(i) for i in diff[0])
    where = idx[0] if len(idx) == 1 else idx
    return (
        f"step {step}: {key}[{where}] simulator={int(got[idx])} reference={int(want[idx])} "
        f"({diff.shape[0]} entries differ)"
    )


def _first_spike_difference(results, built, ref_spikes: list[list[int]]) -> str | None:
    sim = {}
    for name, sl in built.lif_slices.items():
        tr = results.spikes[name]
        for step, i in zip(np.asarray(tr.steps), np.asarray(tr.ids)):
            sim.setdefault(int(step), []).append(int(i) + sl.start)
    for step, want in enumerate(ref_spikes):
        got = sorted(sim.get(step, []))
        if got != want:
            return f"step {step}: spikes simulator={got} reference={want}"
    extra = sorted(s for s in sim if s >= len(ref_spikes))
    if extra:
        return f"step {extra[0]}: the simulator reports spikes after the last step"
    return None


@pytest.mark.parametrize(
    "seed, stdp, size, steps, max_delay",
    CASES,
    ids=[f"seed{c[0]}-{'stdp' if c[1] else 'static'}-{c[2]}-d{c[4]}" for c in CASES],
)
def test_fixed_mode_matches_reference(seed, stdp, size, steps, max_delay):
    net, q = _case(seed, stdp, size, steps, max_delay)
    core = ReferenceCore(q)
    sim = snn.Simulator(net, mode="fixed", quantized=q)
    start = core.state()
    for key in KEYS:
        problem = _first_difference(-1, key, sim.state[key], start[key])
        assert problem is None, f"initial state: {problem}"
    ref_spikes = []
    for step in range(steps):
        ref_spikes.append(core.step())
        sim.run(1)
        got, want = sim.state, core.state()
        for key in KEYS:
            problem = _first_difference(step, key, got[key], want[key])
            assert problem is None, problem
    problem = _first_spike_difference(sim.results(), q.built, ref_spikes)
    assert problem is None, problem
    assert sim.step == steps
    COUNTS[seed] = core.counts
    EXTREMES[seed] = (int(q.weight.min(initial=0)), int(q.weight.max(initial=0)))


def test_suite_exercises_the_arithmetic():
    """Saturation, refractoriness, STDP bounds and delays all occur somewhere in the suite."""
    total = Counter()
    lo, hi = 0, 0
    for seed, stdp, size, steps, max_delay in CASES:
        if seed not in COUNTS:  # run alone (-k, xdist): recompute with the reference only
            net, q = _case(seed, stdp, size, steps, max_delay)
            core = ReferenceCore(q)
            core.run(steps)
            COUNTS[seed] = core.counts
            EXTREMES[seed] = (int(q.weight.min(initial=0)), int(q.weight.max(initial=0)))
        total += COUNTS[seed]
        lo, hi = min(lo, EXTREMES[seed][0]), max(hi, EXTREMES[seed][1])
    for event in (
        "sat_v_high",  # v clamped to v_bits, at the top
        "sat_v_low",  # ... and at the bottom
        "sat_i_high",  # a current clamped to i_bits on delivery (excitatory)
        "sat_i_low",  # (inhibitory)
        "frozen",  # refractory hold steps
        "spikes_with_hold",  # spikes followed by a hold (R >= 2)
        "sat_trace",  # an "all"-pairing trace clamped at 2^trace_bits - 1
        "at_w_min",
        "at_w_max",
        "potentiated",
        "depressed",
        "delayed_events",  # synaptic events with delay > 1
    ):
        assert total[event] > 0, f"no case exercises {event}: {dict(total)}"
    assert (lo, hi) == (-128, 127), f"weights span {lo}..{hi} LSB, expected the full 8-bit range"
