"""Network.build(): connectivity rules, seeds, spike sources, CSR layout."""

from __future__ import annotations

import numpy as np
import pytest

import snn
from snn.build import poisson_steps


def two_groups(seed=1) -> snn.Network:
    net = snn.Network(dt=0.1, duration=50.0, seed=seed)
    net.lif("a", 300)
    net.lif("b", 200)
    return net


@pytest.mark.parametrize(
    "rule, count",
    [
        (snn.AllToAll(), 300 * 200),
        (snn.FixedInDegree(7), 200 * 7),
    ],
)
def test_rule_counts(rule, count):
    net = two_groups()
    net.connect("ab", "a", "b", rule, weight=1.0)
    assert net.build().n_synapses == count


def test_fixed_probability_statistics_and_no_self():
    net = two_groups()
    net.connect("aa", "a", "a", snn.FixedProbability(0.1, allow_self=False), weight=1.0)
    built = net.build()
    pre, post = built.projection_pairs("aa")
    assert not np.any(pre == post)
    expected = 0.1 * 300 * 299
    assert abs(built.n_synapses - expected) < 5 * np.sqrt(expected)
    assert np.unique(pre * 300 + post).size == pre.size  # no duplicate pairs


def test_fixed_indegree_distinct_and_no_self():
    net = two_groups()
    net.connect("aa", "a", "a", snn.FixedInDegree(20, allow_self=False), weight=1.0)
    pre, post = net.build().projection_pairs("aa")
    assert np.all(np.bincount(post, minlength=300) == 20)
    assert not np.any(pre == post)
    assert np.unique(pre * 300 + post).size == pre.size


def test_same_seed_same_network_other_seed_differs():
    def synapses(seed):
        net = two_groups(seed)
        net.connect("ab", "a", "b", snn.FixedProbability(0.05), weight=snn.Uniform(0.0, 1.0))
        b = net.build()
        return b.syn_post, b.syn_weight

    a1, a2, b = synapses(1), synapses(1), synapses(2)
    assert np.array_equal(a1[0], a2[0]) and np.array_equal(a1[1], a2[1])
    assert not np.array_equal(a1[1], b[1])


def test_dense_matrix_and_projection_order():
    net = snn.Network()
    net.poisson("in", 3, rate=1.0)
    net.lif("n", 2)
    w = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    net.connect("ff", "in", "n", snn.AllToAll(), weight=w)
    built = net.build()
    assert np.array_equal(built.projection_weights("ff"), w.ravel())
    pre, post = built.projection_pairs("ff")
    assert np.array_equal(pre, [0, 0, 1, 1, 2, 2]) and np.array_equal(post, [0, 1] * 3)


def test_csr_is_sorted_by_pre_then_post():
    net = two_groups()
    net.connect("ba", "b", "a", snn.FixedProbability(0.1), weight=1.0)
    net.connect("ab", "a", "b", snn.FixedProbability(0.1), weight=1.0)
    built = net.build()
    for row in range(built.syn_ptr.size - 1):
        seg = built.syn_post[built.syn_ptr[row] : built.syn_ptr[row + 1]]
        assert np.all(np.diff(seg) > 0)


def test_poisson_rate_and_one_spike_per_step():
    rng = np.random.default_rng(0)
    ids, steps = poisson_steps(np.array([100.0, 10.0]), 2, 0.1, 100_000, rng)
    for i, rate in ((0, 100.0), (1, 10.0)):
        s = steps[ids == i]
        assert np.unique(s).size == s.size
        expected = rate * 10.0  # 10 s simulated
        assert abs(s.size - expected) < 5 * np.sqrt(expected)


def test_spike_source_times_round_to_steps_and_duplicates_refused():
    net = snn.Network(dt=0.5, duration=10.0)
    net.add(snn.SpikeSource.from_trains("s", [[1.0, 2.0], [0.0]]))
    built = net.build()
    assert np.array_equal(built.input_ptr[[0, 1, 2, 3, 4, 5]], [0, 1, 1, 2, 2, 3])
    net = snn.Network(dt=1.0, duration=10.0)
    net.add(snn.SpikeSource.from_trains("s", [[1.0, 1.2]]))
    with pytest.raises(snn.NetworkError, match="spikes twice in timestep 1"):
        net.build()


def test_per_synapse_weight_length_checked_at_build():
    net = two_groups()
    net.connect("ab", "a", "b", snn.FixedInDegree(3), weight=np.ones(5))
    with pytest.raises(snn.NetworkError, match="shape mismatch, 5 weights for 600 synapses"):
        net.build()
