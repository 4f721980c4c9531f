"""CoreSpec and quantize(): integer mapping, refusals, clipping, structural fit."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

import snn
from snn.core_spec import CoreSpec
from snn.quantize import QuantizationWarning, QuantizedRule, fit_problems, propagators, quantize


def small_net(**lif) -> snn.Network:
    net = snn.Network(dt=0.1, duration=10.0, seed=3)
    inp = net.poisson("in", 8, rate=50.0)
    params = dict(tau_m=20.0, v_rest=-65.0, v_thresh=-50.0, v_reset=-70.0, t_ref=2.0, v_init=-65.0)
    params.update(lif)
    ex = net.lif("exc", 10, **params)
    net.connect("ff", inp, ex, snn.AllToAll(), weight=snn.Uniform(0.0, 2.0))
    net.connect("rec", ex, ex, snn.FixedProbability(0.3, allow_self=False), weight=-1.0, target="inh")
    return net


def test_default_spec_is_neurocorex_like():
    spec = CoreSpec()
    assert (spec.weight_bits, spec.v_bits, spec.frac_bits) == (8, 18, 10)
    assert (spec.max_inputs, spec.max_neurons, spec.stdp) == (256, 256, True)
    assert spec.v_range == (-(2**17), 2**17 - 1)
    assert spec.acc_bits == 8 + 10  # 512 sources summed never overflow
    assert CoreSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weight_bits": 0}, "weight_bits must be an integer >= 1"),
        ({"frac_bits": 18}, "frac_bits must be smaller"),
        ({"trace_frac_bits": 16}, "trace_frac_bits must be smaller"),
        ({"stdp": 1}, "stdp must be true or false"),
    ],
)
def test_bad_spec(kwargs, match):
    with pytest.raises(snn.NetworkError, match=match):
        CoreSpec(**kwargs)


def test_unknown_spec_field():
    with pytest.raises(snn.NetworkError, match="unknown CoreSpec field 'colour'"):
        CoreSpec.from_dict({"colour": 3})


def test_propagators_match_closed_form():
    p = propagators(0.1, np.array([20.0, 5.0]), np.array([5.0, 5.0]), np.array([10.0, 10.0]))
    assert p["k_m"][0] == pytest.approx(1 - math.exp(-0.1 / 20))
    expected = 5 / (5 - 20) * (math.exp(-0.1 / 5) - math.exp(-0.1 / 20))
    assert p["p_e"][0] == pytest.approx(expected, rel=1e-12)
    # tau_syn == tau_m: the limit dt/tau * exp(-dt/tau)
    assert p["p_e"][1] == pytest.approx(0.1 / 5 * math.exp(-0.1 / 5), rel=1e-12)


def test_quantize_integers_and_report():
    q = quantize(small_net())
    spec = q.spec
    assert q.v_thresh[0] == round(-50.0 * 2**spec.frac_bits)
    assert q.v_reset[0] == -70 * 1024
    assert q.ref_steps[0] == 20
    assert q.k_m[0] == round((1 - math.exp(-0.1 / 20)) * 2**16)
    # the largest weight magnitude (2 mV) must be representable: LSB = 2**(s-10) mV
    assert q.weight_shift == 4 and q.weight_lsb == 2.0**-6
    lo, hi = spec.weight_range
    assert q.weight.min() >= lo and q.weight.max() <= hi
    np.testing.assert_allclose(q.weights_mV(), q.built.syn_weight, atol=q.weight_lsb / 2 + 1e-12)
    names = {row.name for row in q.report}
    assert {"v_thresh", "k_m", "p_e", "weight", "t_ref"} <= names
    weight_row = next(r for r in q.report if r.name == "weight")
    assert 0 < weight_row.max_abs_error <= q.weight_lsb / 2
    assert "max abs err" in q.report_text()


def test_threshold_out_of_range_is_refused_or_clipped():
    net = small_net(v_thresh=200.0)
    with pytest.raises(snn.FitError, match=r"v_thresh = 200 mV does not fit the core's 18-bit v"):
        quantize(net)
    with pytest.warns(QuantizationWarning, match="clipped"):
        q = quantize(net, clip=True)
    assert q.v_thresh.max() == CoreSpec().v_range[1]


def test_refractory_too_long():
    with pytest.raises(snn.FitError, match="t_ref = 30 ms does not fit the core's 8-bit counter"):
        quantize(small_net(t_ref=30.0))


def test_time_constant_too_long_for_coefficients():
    with pytest.raises(snn.FitError, match="coefficient k_m rounds to 0"):
        quantize(small_net(tau_m=1e7))


def test_weights_too_large_for_current_width():
    net = small_net()
    net.projections["ff"].weight = 1e6
    with pytest.raises(snn.FitError, match="scale the weights down"):
        quantize(net)


def test_stdp_constants():
    net = small_net()
    rule = snn.PairSTDP(a_plus=0.05, a_minus=0.06, tau_plus=20.0, tau_minus=30.0, w_min=0.0, w_max=2.0)
    net.projections.clear()
    inp, ex = net.populations["in"], net.populations["exc"]
    net.connect("ff", inp, ex, snn.AllToAll(), weight=1.0, stdp=rule)
    q = quantize(net)
    r = q.rules[0]
    lsb = q.weight_lsb
    assert r.amp_plus == round(0.05 / lsb * 2**8)
    assert r.decay_post == round(math.exp(-0.1 / 30) * 2**16)
    assert (r.w_min, r.w_max) == (0, round(2.0 / lsb))
    assert r.bump_pre == 2**12 and not r.nearest and not r.multiplicative
    with pytest.raises(TypeError):  # eleven integers in a row are read by name, never by position
        QuantizedRule(*dataclasses.astuple(r))
    assert QuantizedRule(**dataclasses.asdict(r)) == r


def test_stdp_amplitude_below_resolution_warns():
    net = small_net()
    net.projections.clear()
    net.connect("ff", "in", "exc", snn.AllToAll(), weight=1.0, stdp=snn.PairSTDP(a_plus=1e-9, w_max=2.0))
    with pytest.warns(QuantizationWarning, match="below the STDP resolution"):
        quantize(net)


def test_window_longer_than_trace():
    net = small_net()
    net.projections.clear()
    net.connect("ff", "in", "exc", weight=1.0, stdp=snn.WindowSTDP(window_pre=70000, w_max=2.0))
    with pytest.raises(snn.FitError, match="window_pre = 70000 steps needs a trace above 65535"):
        quantize(net)


def test_fit_problems():
    assert fit_problems(small_net()) == []
    net = snn.Network(dt=0.1, duration=1.0)
    net.poisson("in", 300, rate=1.0)
    net.lif("a", 200)
    net.lif("b", 100)
    net.connect("ab", "a", "b", weight=1.0, delay=3)
    problems = fit_problems(net)
    assert any("300 spike sources exceed the core's 256 inputs" in p for p in problems)
    assert any("300 LIF neurons exceed the core's 256 neurons" in p for p in problems)
    assert any("delay of 3 steps exceeds the core's maximum of 1" in p for p in problems)
    with pytest.raises(snn.FitError, match="does not fit the core: 300 spike sources"):
        quantize(net)
    # the arithmetic alone still applies (the simulator's fixed mode runs large networks)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert quantize(net, require_fit=False).weight.size == 200 * 100


def test_fit_rejects_duplicate_pairs_and_two_rules_per_matrix():
    net = snn.Network()
    net.poisson("in", 4, rate=1.0)
    net.lif("n", 4)
    net.connect("p1", "in", "n", weight=1.0, stdp=snn.PairSTDP(w_max=2.0))
    net.connect(
        "p2", "in", "n", snn.OneToOne(), weight=-1.0, target="inh", stdp=snn.PairSTDP(w_min=-2.0, w_max=0.0)
    )
    problems = fit_problems(net)
    assert any("connect the same pair in the feed-forward matrix" in p for p in problems)
    assert any("feed-forward matrix has 2 STDP rules" in p for p in problems)
    net = snn.Network()
    net.poisson("in", 4, rate=1.0)
    net.lif("n", 4)
    net.connect("plastic", "in", "n", snn.OneToOne(), weight=1.0, stdp=snn.PairSTDP(w_max=2.0))
    net.connect("static", "in", "n", snn.Sparse([0], [1]), weight=1.0)
    assert any("enables STDP per row and per column" in p for p in fit_problems(net))


def test_fit_rejects_sparse_plastic_projections():
    """A missing synapse is a zero weight in the core's matrix; STDP there would grow it."""
    net = snn.Network()
    net.poisson("in", 4, rate=1.0)
    net.lif("n", 4)
    net.connect("plastic", "in", "n", snn.Sparse([0, 1], [1, 2]), weight=1.0, stdp=snn.PairSTDP(w_max=2.0))
    assert any("do not fill their rows x columns" in p for p in fit_problems(net))
