"""The torch backend against the numba simulator: fixed mode bit for bit, float mode within tolerance.

Random networks (snn/testing/random_networks.py) run step by step in both; in fixed mode the
whole state (v, i_e, i_i, ref, STDP traces, weights) must be identical after every step
and the spike rasters equal, for every propagation strategy and in a batch. Float mode
must give the same spikes, with v, traces and weights within a stated tolerance.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

import snn
from snn.quantize import QuantizedNetwork, quantize
from snn.testing.random_networks import random_case, random_network

torch = pytest.importorskip("torch")
from snn.torch_backend import TorchSimulator  # noqa: E402

FIXED_KEYS = ("v", "i_e", "i_i", "ref", "x", "y", "weight")
# (seed, stdp, max_delay): STDP of every kind, delays up to 4, strong (saturating) drive
CASES = [(0, True, 1), (1, True, 1), (3, True, 4), (4, True, 1), (6, True, 1), (9, True, 1),
         (10, False, 1), (12, False, 1), (13, False, 4), (15, False, 1)]  # fmt: skip
STEPS = 150


def _spike_lists(res: snn.Results) -> dict[str, tuple[list, list]]:
    return {p: (tr.steps.tolist(), tr.ids.tolist()) for p, tr in res.spikes.items()}


def _first_difference(step: int, key: str, got: np.ndarray, want: np.ndarray) -> str | None:
    diff = np.argwhere(got != want)
    if diff.size == 0 and got.shape == want.shape:
        return None
    if got.shape != want.shape:
        return f"step {step}: {key} shape torch={got.shape} numba={want.shape}"
    idx = tuple(diff[0])
    return f"step {step}: {key}{list(idx)} torch={got[idx]} numba={want[idx]} ({len(diff)} differ)"


def _strategies(stdp: bool) -> list[str]:
    return ["dense", "event"] if stdp else ["dense", "event", "sparse"]


@pytest.mark.parametrize("seed, stdp, max_delay", CASES)
def test_fixed_mode_equals_numba_every_step(seed, stdp, max_delay):
    net, q = random_case(seed, stdp=stdp, n_steps=STEPS, max_delay=max_delay)
    numba = snn.Simulator(net, mode="fixed", quantized=q)
    sims = {p: TorchSimulator(net, "fixed", quantized=q, propagation=p) for p in _strategies(stdp)}
    for step in range(STEPS):
        numba.run(1)
        want = numba.state
        for name, sim in sims.items():
            sim.run(1)
            got = sim.state
            for key in FIXED_KEYS:
                assert got[key].dtype.kind == "i", f"{key} is {got[key].dtype} in fixed mode"
                problem = _first_difference(step, key, got[key][0], want[key])
                assert problem is None, f"{name}: {problem}"
    ref = numba.results()
    for name, sim in sims.items():
        res = sim.results()[0]
        assert _spike_lists(res) == _spike_lists(ref), name
        assert res.n_events == ref.n_events and res.spike_counts == ref.spike_counts


def _trial_case(seed: int, stdp: bool) -> tuple[snn.Network, QuantizedNetwork]:
    """A random case whose first LIF group starts at random potentials (``Uniform`` v_init)."""
    net, q = random_case(seed, stdp=stdp, n_steps=STEPS)
    g = net.lif_groups[0]
    span = q.built.lif_slices[g.name]
    lo, hi = float(q.built.params["v_reset"][span].min()), float(q.built.params["v_thresh"][span].min())
    net.populations[g.name] = dataclasses.replace(g, v_init=snn.Uniform(lo, hi))
    return net, quantize(net, q.spec, weight_shift=q.weight_shift, require_fit=False)


def _twin(net: snn.Network, b: int) -> snn.Network:
    """The single-run network of trial ``b``."""
    return snn.trial(net, snn.trial_seed(net.seed, b))


@pytest.mark.parametrize("seed, stdp", [(4, True), (12, False)])
def test_fixed_trials_differ_and_each_equals_its_numba_twin(seed, stdp):
    """``batch=B``: trial b draws its Poisson inputs and v_init from its own seed, bit for bit as numba."""
    net, q = _trial_case(seed, stdp)
    sim = TorchSimulator(net, "fixed", quantized=q, batch=3)
    sim.run(STEPS)
    got_state, got = sim.state, sim.results()
    for b in range(3):
        twin = _twin(net, b)
        numba = snn.Simulator(
            twin, mode="fixed", quantized=quantize(twin, q.spec, weight_shift=q.weight_shift)
        )
        numba.run(STEPS)
        for key in FIXED_KEYS:
            problem = _first_difference(STEPS, key, got_state[key][b], numba.state[key])
            assert problem is None, f"trial {b}: {problem}"
        ref = numba.results()
        assert _spike_lists(got[b]) == _spike_lists(ref), f"trial {b}"
        assert got[b].n_events == ref.n_events
    rasters = [_spike_lists(r) for r in got]
    assert rasters[0] != rasters[1] and rasters[1] != rasters[2], "trials must differ"


@pytest.mark.parametrize("dtype, atol", [("float64", 1e-9), ("float32", 1e-2)])
def test_float_trials_equal_their_numba_twins_within_tolerance(dtype, atol):
    net, _ = _trial_case(6, True)
    runs = snn.simulate(net, mode="float", backend="torch", batch=2, dtype=dtype)
    sim = TorchSimulator(net, "float", dtype=dtype, batch=2)
    sim.run(STEPS)
    for b in range(2):
        numba = snn.Simulator(_twin(net, b), mode="float", dtype=dtype)
        numba.run(STEPS)
        for key in ("v", "x", "y", "weight"):
            err = np.max(np.abs(sim.state[key][b] - numba.state[key]), initial=0.0)
            assert err <= atol, f"trial {b}: {key} differs by {err:g} mV"
        assert _spike_lists(runs[b]) == _spike_lists(numba.results()), f"trial {b}"
    assert _spike_lists(runs[0]) != _spike_lists(runs[1])


def test_trial_seeds_given_frozen_noise_and_copies():
    """``seeds=`` picks the trials; a Poisson source with its own seed is the same in every trial."""
    net = snn.Network(dt=0.5, duration=60.0, seed=7)
    net.poisson("frozen", 20, rate=150.0, seed=99)
    net.lif("a", 10, v_init=-60.0)
    net.connect("ff", "frozen", "a", weight=3.0)
    net.record_spikes("a")
    runs = snn.simulate(net, mode="fixed", backend="torch", seeds=[5, 6])
    assert _spike_lists(runs[0]) == _spike_lists(runs[1])  # nothing random left to redraw
    net.poisson("noise", 20, rate=150.0)
    net.connect("ff2", "noise", "a", weight=3.0)
    by_seed = snn.simulate(net, mode="fixed", backend="torch", seeds=[snn.trial_seed(7, 1), 123])
    by_batch = snn.simulate(net, mode="fixed", backend="torch", batch=2)
    assert _spike_lists(by_seed[0]) == _spike_lists(by_batch[1])
    assert _spike_lists(by_seed[1]) == _spike_lists(
        snn.simulate(snn.trial(net, 123), mode="fixed", progress=False)
    )
    assert (
        snn.trial_seed(7, 3)
        == int(np.random.SeedSequence(7).spawn(4)[3].generate_state(1, np.uint64)[0]) >> 1
    )
    with pytest.raises(snn.NetworkError, match="either inputs= .* or seeds="):
        TorchSimulator(net, "fixed", seeds=[1], inputs=np.zeros((1, 5, 40)))
    with pytest.raises(snn.NetworkError, match="2 seeds for a batch of 3"):
        TorchSimulator(net, "fixed", seeds=[1, 2], batch=3)
    with pytest.raises(snn.NetworkError, match="seeds must be"):
        TorchSimulator(net, "fixed", seeds=[-1])


def test_batch_inputs_each_trial_its_own():
    """``inputs`` gives each trial its own spike trains: trial b equals a numba run of those trains."""
    net, q = random_case(11, stdp=True, n_steps=80)
    rng = np.random.default_rng(0)
    n_src = q.built.n_sources
    trains = (rng.random((3, 80, n_src)) < 0.1).astype(np.uint8)
    sim = TorchSimulator(net, "fixed", quantized=q, inputs=trains)
    sim.run(80)
    for b, res in enumerate(sim.results()):
        # the same trains as explicit sources of one network: replace every source by one SpikeSource
        steps, ids = np.nonzero(trains[b])
        single = snn.Network(dt=net.dt, duration=net.duration, seed=net.seed)
        for group in net.lif_groups:
            single.add(group)
        # sources in declaration order: one SpikeSource per original source population
        start = 0
        for src in net.sources:
            keep = (ids >= start) & (ids < start + src.n)
            single.spikes(src.name, src.n, ids=ids[keep] - start, steps=steps[keep])
            start += src.n
        single.projections = net.projections
        single.recordings = net.recordings
        q_single = quantize(single, q.spec, weight_shift=q.weight_shift, require_fit=False)
        want = snn.simulate(single, mode="fixed", quantized=q_single, progress=False)
        assert _spike_lists(res) == _spike_lists(want), f"trial {b}"


@pytest.mark.parametrize("dtype, atol", [("float64", 1e-9), ("float32", 1e-2)])
@pytest.mark.parametrize("seed, stdp, max_delay", CASES[::2])
def test_float_mode_agrees_with_numba(seed, stdp, max_delay, dtype, atol):
    """Same spikes; v, traces and weights within ``atol`` mV (float64: summation order only)."""
    net = random_network(seed, stdp=stdp, n_steps=STEPS, max_delay=max_delay)
    numba = snn.Simulator(net, mode="float", dtype=dtype)
    sims = {p: TorchSimulator(net, "float", dtype=dtype, propagation=p) for p in ("dense", "event")}
    for step in range(STEPS):
        numba.run(1)
        want = numba.state
        for name, sim in sims.items():
            sim.run(1)
            got = sim.state
            assert np.array_equal(got["ref"][0], want["ref"]), f"{name} step {step}: refractory state differs"
            for key in ("v", "x", "y", "weight"):
                err = np.max(np.abs(got[key][0] - want[key]), initial=0.0)
                assert err <= atol, f"{name} step {step}: {key} differs by {err:g} mV"
    for sim in sims.values():
        assert _spike_lists(sim.results()[0]) == _spike_lists(numba.results())


def test_results_have_the_numba_fields_and_units():
    """State probes, rates, weights and snapshots: same keys, shapes and values as numba fixed mode."""
    net, q = random_case(5, stdp=True, n_steps=120)
    pop = net.lif_groups[0].name
    proj = next(iter(net.projections))
    net.record_state(pop, ("v", "i_e", "i_i"), neurons=[0, 1], every=3)
    net.record_rate(pop)
    net.record_weights(proj, every=50)
    want = snn.simulate(net, mode="fixed", quantized=q, progress=False)
    got = snn.simulate(net, mode="fixed", quantized=q, backend="torch")
    assert isinstance(got, snn.Results) and got.mode == "fixed" and got.n_steps == want.n_steps
    for attr in ("state", "state_raw"):
        for var in ("v", "i_e", "i_i"):
            np.testing.assert_array_equal(getattr(got, attr)[pop][var], getattr(want, attr)[pop][var])
    np.testing.assert_array_equal(got.state_times[pop], want.state_times[pop])
    np.testing.assert_array_equal(got.rates[pop], want.rates[pop])
    for attr in ("weights", "weights_raw", "weight_snapshots", "weight_snapshot_steps", "weight_pairs"):
        np.testing.assert_array_equal(getattr(got, attr)[proj], getattr(want, attr)[proj])
    assert got.weight_shapes == want.weight_shapes and got.population_sizes == want.population_sizes


def test_dispatch_errors_are_one_line(monkeypatch):
    net = random_network(2, stdp=False, n_steps=10)
    with pytest.raises(snn.NetworkError, match="unknown backend"):
        snn.simulate(net, backend="jax")
    with pytest.raises(snn.NetworkError, match="CPU only"):
        snn.simulate(net, device="cuda")
    with pytest.raises(snn.NetworkError, match="propagation"):
        snn.simulate(net, backend="torch", propagation="magic")
    for name in [m for m in sys.modules if m == "torch" or m.startswith(("torch.", "snn.torch_backend"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    with pytest.raises(snn.NetworkError, match=r"^backend='torch' needs PyTorch: pip install torch$"):
        snn.simulate(net, backend="torch")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("propagation", ["dense", "event", "sparse"])
def test_cuda_fixed_mode_equals_numba(propagation):
    for seed, stdp, max_delay in CASES:
        if stdp and propagation == "sparse":
            continue
        net, q = random_case(seed, stdp=stdp, n_steps=STEPS, max_delay=max_delay)
        ref = snn.simulate(net, mode="fixed", quantized=q, progress=False)
        res = snn.simulate(
            net, mode="fixed", quantized=q, backend="torch", device="cuda", propagation=propagation
        )
        assert _spike_lists(res) == _spike_lists(ref), f"seed {seed}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_trials_equal_their_numba_twins():
    net, q = _trial_case(4, True)
    runs = snn.simulate(net, mode="fixed", quantized=q, backend="torch", device="cuda", batch=4)
    for b, res in enumerate(runs):
        twin = _twin(net, b)
        want = snn.simulate(twin, mode="fixed", quantized=quantize(twin, q.spec, weight_shift=q.weight_shift))
        assert _spike_lists(res) == _spike_lists(want), f"trial {b}"
