"""Focused tests of the numba simulator engine (snn/sim): phases, monitors, files, STDP.

Analytic and reference comparisons live in test_sim_analytic.py / test_sim_reference.py.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

import snn
from snn.sim.intmath import rnd, sat, trunc

MODES = ("float", "fixed")


def small_cuba(n: int = 400, duration: float = 100.0, seed: int = 5) -> snn.Network:
    """A small CUBA-like network with Poisson drive."""
    net = snn.Network(dt=0.1, duration=duration, seed=seed)
    kw = dict(
        tau_m=20.0, v_rest=-49.0, v_thresh=-50.0, v_reset=-60.0, t_ref=5.0, v_init=snn.Uniform(-60.0, -50.0)
    )
    exc = net.lif("exc", n * 4 // 5, **kw)
    inh = net.lif("inh", n // 5, **kw)
    net.poisson("drive", 20, rate=50.0)
    p = snn.FixedProbability(0.05, allow_self=False)
    net.connect("ee", exc, exc, p, weight=1.62)
    net.connect("ei", exc, inh, p, weight=1.62)
    net.connect("ie", inh, exc, p, weight=-9.0, target="inh")
    net.connect("ii", inh, inh, p, weight=-9.0, target="inh", delay=2)
    net.connect("de", "drive", exc, snn.FixedProbability(0.1), weight=2.0)
    net.record_spikes()
    net.record_rate(exc)
    net.record_state(exc, ("v", "i_e", "i_i"), neurons=[0, 3, 7], every=2)
    return net


def probe_net(weight: float = 2.0, target: str = "exc", delay=1, steps=(10,), n_src: int = 1) -> snn.Network:
    """Spike sources -> one quiet neuron (no spikes), every state variable recorded each step."""
    net = snn.Network(dt=0.1, duration=5.0, seed=0)
    net.spikes("src", n_src, ids=[i % n_src for i in range(len(steps))], steps=list(steps))
    net.lif("n", 1, v_rest=-65.0, v_init=-65.0, v_thresh=0.0)
    net.connect("p", "src", "n", snn.AllToAll(), weight=weight, target=target, delay=delay)
    net.record_state("n", ("v", "i_e", "i_i"))
    return net


def same_results(a: snn.Results, b: snn.Results) -> None:
    for pop in a.spikes:
        np.testing.assert_array_equal(a.spikes[pop].steps, b.spikes[pop].steps)
        np.testing.assert_array_equal(a.spikes[pop].ids, b.spikes[pop].ids)
    for pop in a.state:
        for var in a.state[pop]:
            np.testing.assert_array_equal(a.state[pop][var], b.state[pop][var])


# -- integer helpers ---------------------------------------------------------------------------
def test_integer_helpers_follow_the_doc():
    assert rnd(5, 1) == 3 and rnd(-5, 1) == -2 and rnd(-6, 2) == -1  # halves towards +inf, floor shift
    assert trunc(-7, 1) == -3 and trunc(7, 1) == 3 and trunc(-1, 4) == 0  # towards zero
    assert sat(300, -128, 127) == 127 and sat(-300, -128, 127) == -128 and sat(5, -128, 127) == 5


# -- determinism and chunking ---------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_same_seed_gives_identical_results(mode):
    a = snn.simulate(small_cuba(), mode, progress=False)
    b = snn.simulate(small_cuba(), mode, progress=False)
    assert a.n_spikes > 50
    same_results(a, b)
    np.testing.assert_array_equal(a.rates["exc"], b.rates["exc"])


@pytest.mark.parametrize("mode", MODES)
def test_run_in_pieces_equals_one_run(mode):
    net = small_cuba(duration=30.0)
    one = snn.Simulator(net, mode, progress=False)
    one.run(300)
    pieces = snn.Simulator(net, mode, progress=False)
    for m in (1, 0, 57, 242):
        pieces.run(m)
    assert pieces.step == one.step == 300
    for key, value in one.state.items():
        np.testing.assert_array_equal(value, pieces.state[key], err_msg=key)
    same_results(one.results(), pieces.results())


def test_float32_close_to_float64():
    net = snn.Network(dt=0.1, duration=50.0)
    net.lif("n", 3, v_rest=-49.0, v_reset=-60.0, v_thresh=-50.0, t_ref=2.0, v_init=[-60.0, -55.0, -51.0])
    net.record_state("n", ("v",))
    r64 = snn.simulate(net, dtype="float64", progress=False)
    r32 = snn.simulate(net, dtype="float32", progress=False)
    np.testing.assert_allclose(r32.state["n"]["v"], r64.state["n"]["v"], atol=2e-4)
    np.testing.assert_array_equal(r32.spikes["n"].steps, r64.spikes["n"].steps)
    assert snn.Simulator(net, dtype="float32").state["v"].dtype == np.float32


# -- phases ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("delay", [1, 3, 7])
def test_spike_arrives_delay_steps_later(mode, delay):
    res = snn.simulate(probe_net(delay=delay), mode, progress=False)
    i_e = res.state["n"]["i_e"][:, 0]  # sample k is the state after step k
    first = int(np.flatnonzero(i_e != 0)[0])
    assert first == 10 + delay
    assert np.all(res.state["n"]["i_i"] == 0)


@pytest.mark.parametrize("mode", MODES)
def test_per_synapse_delays(mode):
    net = snn.Network(dt=0.1, duration=3.0)
    net.spikes("src", 2, ids=[0, 1], steps=[4, 4])
    net.lif("n", 2, v_rest=-65.0, v_init=-65.0)
    net.connect("p", "src", "n", snn.OneToOne(), weight=1.0, delay=np.array([2, 5]))
    net.record_state("n", ("i_e",))
    i_e = snn.simulate(net, mode, progress=False).state["n"]["i_e"]
    assert [int(np.flatnonzero(i_e[:, k] != 0)[0]) for k in range(2)] == [6, 9]


@pytest.mark.parametrize("mode", MODES)
def test_excitatory_and_inhibitory_routing(mode):
    exc = snn.simulate(probe_net(weight=2.0, target="exc"), mode, progress=False).state["n"]
    inh = snn.simulate(probe_net(weight=-3.0, target="inh"), mode, progress=False).state["n"]
    assert exc["i_e"].max() > 1.9 and np.all(exc["i_i"] == 0) and exc["v"].max() > -65.0
    assert inh["i_i"].min() < -2.9 and np.all(inh["i_e"] == 0) and inh["v"].min() < -65.0
    # the current's jump is the weight (float mode: exactly, then decays by exp(-dt/tau))
    if mode == "float":
        assert inh["i_i"][11, 0] == pytest.approx(-3.0 * math.exp(-0.1 / 10.0), rel=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_refractory_hold_length(mode):
    t_ref, dt = 2.0, 0.1
    net = snn.Network(dt=dt, duration=30.0)
    net.lif("n", 1, v_rest=-40.0, v_thresh=-50.0, v_reset=-60.0, t_ref=t_ref, v_init=-60.0)
    net.record_state("n", ("v",))
    res = snn.simulate(net, mode, progress=False)
    v = res.state["n"]["v"][:, 0]
    spikes = res.spikes["n"].steps
    assert spikes.size >= 2
    r = round(t_ref / dt)
    for s in spikes[:-1]:  # held at v_reset after steps s .. s+R-1, integrating again at s+R
        assert np.all(v[s : s + r] == v[s]) and v[s] == pytest.approx(-60.0, abs=1e-3)
        assert v[s + r] > v[s]
    assert np.all(np.diff(spikes) > r)


def test_fixed_neuron_update_by_hand():
    """Three steps of one neuron with an input, in integers, from the doc's formulas."""
    net = probe_net(weight=2.0, steps=(0,))
    q = snn.quantize(net)
    c, s = q.spec.coef_bits, q.weight_shift
    v, i_e = int(q.v_init[0]), 0
    w = int(q.weight[0])
    expected = []
    for n in range(4):
        if n == 1:  # the source spiked at step 0 with delay 1
            i_e = sat(i_e + (w << s), *q.spec.i_range)
        v = sat(v + rnd((int(q.v_inf[0]) - v) * int(q.k_m[0]) + i_e * int(q.p_e[0]), c), *q.spec.v_range)
        i_e = trunc(i_e * int(q.a_e[0]), c)
        expected.append((v, i_e))
    sim = snn.Simulator(net, "fixed", quantized=q, progress=False)
    got = []
    for _ in range(4):
        sim.run(1)
        got.append((int(sim.state["v"][0]), int(sim.state["i_e"][0])))
    assert got == expected


# -- monitors, results, files, plots ------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_recording_shapes_and_weight_order(mode):
    net = small_cuba(duration=3.5)
    net.record_weights("ie", every=10)
    res = snn.simulate(net, mode, progress=False)
    built = net.build()
    n_syn = built.proj_positions["ie"].size
    assert res.n_steps == 35 and res.rates["exc"].shape == (35,)
    assert res.state["exc"]["v"].shape == (18, 3)  # every 2 steps: 0, 2, ..., 34
    np.testing.assert_allclose(res.state_times["exc"], (np.arange(0, 35, 2) + 1) * 0.1)
    assert res.weight_snapshots["ie"].shape == (5, n_syn)
    np.testing.assert_array_equal(res.weight_snapshot_steps["ie"], [0, 10, 20, 30, 35])
    expected = built.projection_weights("ie")
    if mode == "fixed":
        assert res.weights_raw["ie"].dtype == np.int64 and res.state_raw["exc"]["v"].dtype == np.int64
        np.testing.assert_allclose(
            res.weights["ie"], expected, atol=snn.quantize(net, require_fit=False).weight_lsb / 2
        )
    else:
        np.testing.assert_array_equal(res.weights["ie"], expected)
    assert set(res.spikes) == {"exc", "inh"}  # record_spikes() default: the LIF groups
    assert res.spikes["exc"].times.dtype == np.float64


def test_default_spike_recording_in_simulate():
    net = small_cuba(duration=5.0)
    net.recordings.spikes.clear()
    assert set(snn.simulate(net, progress=False).spikes) == {"exc", "inh"}


@pytest.mark.parametrize("mode", MODES)
def test_results_save_load_round_trip(mode, tmp_path):
    net = small_cuba(duration=10.0)
    net.record_weights("ee", every=25)
    res = snn.simulate(net, mode, progress=False)
    path = tmp_path / "r.npz"
    res.save(path)
    back = snn.Results.load(path)
    for attr in ("mode", "dt", "n_steps", "compile_s", "run_s", "n_spikes", "n_events", "spike_counts",
                 "population_sizes", "weight_shapes"):  # fmt: skip
        assert getattr(back, attr) == getattr(res, attr), attr
    same_results(res, back)
    for attr in (
        "rates",
        "weights",
        "weights_raw",
        "weight_snapshots",
        "weight_snapshot_steps",
        "state_times",
    ):
        assert getattr(back, attr).keys() == getattr(res, attr).keys()
        for key, arr in getattr(res, attr).items():
            np.testing.assert_array_equal(getattr(back, attr)[key], arr)
            assert getattr(back, attr)[key].dtype == arr.dtype


def test_plots_write_png(tmp_path):
    net = small_cuba(duration=20.0)
    net.record_weights("de")
    res = snn.simulate(net, progress=False)
    for name in ("raster", "rate", "traces", "weights"):
        path = tmp_path / f"{name}.png"
        fig = getattr(res, f"plot_{name}")(path)
        assert path.stat().st_size > 2000 and path.read_bytes()[:4] == b"\x89PNG"
        assert fig.axes and fig.axes[0].get_xlabel()


# -- STDP -----------------------------------------------------------------------------------
def stdp_net(pre_steps, a_plus=0.05, a_minus=0.06) -> snn.Network:
    """One source -> one tonically firing neuron through a plastic synapse."""
    net = snn.Network(dt=1.0, duration=60.0)
    net.spikes("src", 1, ids=[0] * len(pre_steps), steps=list(pre_steps))
    net.lif("n", 1, v_rest=-40.0, v_thresh=-50.0, v_reset=-60.0, t_ref=2.0, v_init=-56.0, tau_m=10.0)
    rule = snn.PairSTDP(a_plus=a_plus, a_minus=a_minus, tau_plus=8.0, tau_minus=12.0, w_min=0.0, w_max=2.0)
    net.connect("p", "src", "n", snn.AllToAll(), weight=1.0, stdp=rule)
    net.record_weights("p")
    return net


def test_stdp_pair_fixed_by_hand():
    """Weight after pre/post pairs, recomputed in integers from the doc (phase 5)."""
    net = stdp_net([3, 21, 40])
    q = snn.quantize(net)
    res = snn.simulate(net, "fixed", quantized=q, progress=False)
    post = res.spikes["n"].steps
    assert post.size >= 3
    rule, spec = q.rules[0], q.spec
    c, shift, one = spec.coef_bits, spec.stdp_frac_bits + spec.trace_frac_bits, 1 << spec.trace_frac_bits
    w, x, y = int(q.weight[0]), 0, 0
    pre = {3, 21, 40}
    for n in range(res.n_steps):
        x, y = (x * rule.decay_pre) >> c, (y * rule.decay_post) >> c
        if n in pre:
            w = max(w - rnd(rule.amp_minus * y, shift), rule.w_min)
        if n in post:
            w = min(w + rnd(rule.amp_plus * x, shift), rule.w_max)
        if n in pre:
            x = min(x + one, spec.trace_max)
        if n in post:
            y = min(y + one, spec.trace_max)
    assert w != int(q.weight[0])
    assert int(res.weights_raw["p"][0]) == w


def test_stdp_pair_float_exact_exponentials():
    """A single pre spike before one post spike: w = w0 + a_plus * exp(-m dt / tau_plus)."""
    net = stdp_net([2])
    net.duration = 12.0
    res = snn.simulate(net, progress=False)
    post = res.spikes["n"].steps
    assert post.size == 1 and post[0] > 2
    m = post[0] - 2
    assert res.weights["p"][0] == pytest.approx(1.0 + 0.05 * math.exp(-m / 8.0), rel=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("delays", ["ring", "direct"])  # delay 2 on "ii" / all delays 1
@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("lockstep", [True, False])  # one parallel region per chunk / two per step
def test_threads_do_not_change_results(mode, delays, threads, lockstep, monkeypatch):
    # the parallel kernels run from any size on and for every chunk (by default small
    # networks stay serial, and a busy machine may switch to the serial path)
    monkeypatch.setattr(snn.sim.simulator, "PARALLEL_MIN_NEURONS_PER_THREAD", 0)
    monkeypatch.setattr(snn.sim.simulator, "ADAPTIVE_PATH", False)
    net = small_cuba(duration=20.0)
    if delays == "direct":
        net.projections["ii"].delay = 1
    one = snn.Simulator(net, mode, threads=1, progress=False)
    many = snn.Simulator(net, mode, threads=threads, progress=False)
    assert not one.parallel and many.parallel
    assert many.syn.n_parts == threads  # one CSR part per thread, each with synapses
    assert all(np.any(many.syn.bounds[:, 2 * t + 2] > many.syn.bounds[:, 2 * t]) for t in range(threads))
    assert numba.config.NUMBA_NUM_THREADS >= 2  # so that two threads really ran
    assert many._lockstep  # no plasticity: the lockstep kernel applies
    many._lockstep = lockstep
    one.run(200)
    many.run(200)
    # 3 threads on 2 cores: 2 workers in lockstep, one with 2 parts
    assert many.lockstep_calls >= 2 if lockstep else many.lockstep_calls == 0  # compile call + chunks
    a, b = one.results(), many.results()
    assert a.n_spikes > 50
    same_results(a, b)
    for key, value in one.state.items():
        np.testing.assert_array_equal(value, many.state[key], err_msg=key)


def test_lockstep_falls_back_when_threads_do_not_run_together(monkeypatch):
    # more workers than threads: two of them run one after the other, so the arrival check
    # fails and every call runs on the two-region parallel kernels; after a few such calls
    # the lockstep kernel is given up. Results stay identical.
    monkeypatch.setattr(snn.sim.simulator, "PARALLEL_MIN_NEURONS_PER_THREAD", 0)
    monkeypatch.setattr(snn.sim.simulator, "ADAPTIVE_PATH", False)
    net = small_cuba(duration=20.0)
    one = snn.Simulator(net, "fixed", threads=1, progress=False)
    many = snn.Simulator(net, "fixed", threads=2, progress=False)
    assert many._lockstep
    many._n_workers = numba.config.NUMBA_NUM_THREADS + 1
    for _ in range(4):
        one.run(50)
        many.run(50)
    assert many.lockstep_calls == 0 and not many._lockstep
    same_results(one.results(), many.results())


@pytest.mark.parametrize("mode", MODES)
def test_threads_with_stdp_do_not_change_results(mode, monkeypatch):
    # plasticity: the two-region parallel kernels (no lockstep), weights included
    monkeypatch.setattr(snn.sim.simulator, "PARALLEL_MIN_NEURONS_PER_THREAD", 0)
    monkeypatch.setattr(snn.sim.simulator, "ADAPTIVE_PATH", False)
    net = small_cuba(duration=20.0)
    net.projections["ee"].stdp = snn.PairSTDP(
        a_plus=0.3, a_minus=0.3, tau_plus=8.0, tau_minus=12.0, w_min=0.0, w_max=2.0
    )
    one = snn.Simulator(net, mode, threads=1, progress=False)
    many = snn.Simulator(net, mode, threads=2, progress=False)
    assert many.parallel and not many._lockstep
    one.run(200)
    many.run(200)
    same_results(one.results(), many.results())
    for key, value in one.state.items():
        np.testing.assert_array_equal(value, many.state[key], err_msg=key)
    assert not np.array_equal(one.state["weight"], snn.Simulator(net, mode, progress=False).state["weight"])
