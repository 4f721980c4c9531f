"""Checks of the reference core itself against hand-worked cases of docs/core-arithmetic.md."""

from __future__ import annotations

import numpy as np
import pytest

import snn
from snn.fixed_point import rnd, sat, trunc
from snn.quantize import fit_problems, quantize
from snn.testing.random_networks import random_case, random_network
from snn.testing.reference_core import ReferenceCore


def test_notation_helpers():
    assert sat(1 << 17, 18) == (1 << 17) - 1
    assert sat(-(1 << 17) - 5, 18) == -(1 << 17)
    assert sat(12, 18) == 12
    # rnd: halves go towards +inf, also for negative numbers
    assert [rnd(x, 1) for x in (-3, -2, -1, 0, 1, 2, 3)] == [-1, -1, 0, 0, 1, 1, 2]
    assert rnd(-5, 2) == -1 and rnd(-6, 2) == -1 and rnd(-7, 2) == -2
    # trunc: towards zero
    assert [trunc(x, 1) for x in (-3, -2, -1, 0, 1, 2, 3)] == [-1, -1, 0, 0, 0, 1, 1]
    assert (-3) >> 1 == -2  # arithmetic shift floors


def _one_neuron(t_ref_steps: int, dt: float = 0.5) -> snn.Network:
    net = snn.Network(dt=dt, duration=40 * dt)
    net.lif(
        "n", 1, v_rest=-65.0, i_bias=100.0, v_thresh=-64.0, v_reset=-70.0, t_ref=t_ref_steps * dt, tau_m=1.0
    )
    return net


@pytest.mark.parametrize("R", [0, 1, 2, 5])
def test_refractory_hold(R):
    """Spike at n, held at v_reset for n+1..n+R-1, integrates again at n+R (R = 0, 1: no hold)."""
    q = quantize(_one_neuron(R))
    core = ReferenceCore(q)
    trace = []
    steps = []
    for n in range(30):
        if core.step():
            steps.append(n)
        trace.append(core.v[0])
    isi = max(R, 1)  # the drive crosses threshold in a single integrating step
    assert steps == list(range(steps[0], 30, isi))
    first = steps[0]
    for n in range(first, first + isi):
        assert trace[n] == int(q.v_reset[0]), n


def test_currents_decay_to_zero_both_signs():
    net = snn.Network(dt=1.0, duration=200.0)
    net.lif("n", 1, tau_syn_e=5.0, tau_syn_i=5.0, v_thresh=100.0)
    src = net.spikes("s", 1, ids=[0], steps=[0])
    net.connect("e", src, "n", weight=3.0)
    net.lif("m", 1, tau_syn_e=5.0, tau_syn_i=5.0, v_thresh=100.0)
    net.connect("i", src, "m", weight=-3.0, target="inh")
    core = ReferenceCore(quantize(net))
    core.run(1)
    assert core.i_e == [0, 0] and core.i_i == [0, 0]
    core.run(1)
    assert core.i_e[0] > 0 and core.i_i[1] < 0
    core.run(198)
    assert core.i_e == [0, 0] and core.i_i == [0, 0]  # trunc, not floor: exactly 0


def test_pair_stdp_single_pair_integer_formula():
    """Pre source spikes at step 3; a strong driver makes the post spike at step 3 + m."""
    m = 6
    net = snn.Network(dt=1.0, duration=30.0)
    net.lif("post", 1, v_rest=-65.0, v_thresh=-60.0, v_reset=-65.0, tau_m=10.0, tau_syn_e=1.0, t_ref=5.0)
    pre = net.spikes("pre", 1, ids=[0], steps=[3])
    drv = net.spikes("drv", 1, ids=[0], steps=[3 + m - 1])
    rule = snn.PairSTDP(a_plus=8.0, a_minus=8.0, tau_plus=10.0, tau_minus=10.0, w_min=0.0, w_max=40.0)
    net.connect("plastic", pre, "post", weight=20.0, stdp=rule)
    net.connect("drive", drv, "post", weight=127.0)
    q = quantize(net)
    assert fit_problems(net) == []
    core = ReferenceCore(q)
    spikes = [n for n in range(30) if core.step()]
    assert spikes == [3 + m]
    r = q.rules[0]
    x = 1 << q.spec.trace_frac_bits
    for _ in range(m):
        x = (x * r.decay_pre) >> q.spec.coef_bits
    k = q.spec.stdp_frac_bits + q.spec.trace_frac_bits
    dw = (r.amp_plus * x + (1 << (k - 1))) >> k
    plastic = int(np.flatnonzero(q.built.syn_rule == 0)[0])
    assert dw > 0
    assert core.w[plastic] == int(q.weight[plastic]) + dw


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_fit_and_are_deterministic(seed):
    a = random_network(seed, stdp=seed % 2 == 0)
    b = random_network(seed, stdp=seed % 2 == 0)
    assert fit_problems(a) == []
    assert np.array_equal(a.build().syn_weight, b.build().syn_weight)
    _, q = random_case(seed, stdp=True)
    assert q.weight.min(initial=0) >= -128 and q.weight.max(initial=0) <= 127
