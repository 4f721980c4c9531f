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


@pytest.mark.parametrize("p, size", [(0.05, 7), (0.05, 1000), (0.5, 13), (1e-4, 1), (0.9, 50)])
def test_fixed_probability_chunks_are_the_pairs_and_draws_of_one_call(p, size):
    rule = snn.FixedProbability(p, allow_self=False)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    pre, post = rule.pairs(300, 200, True, a)
    parts = list(rule.chunks(300, 200, True, b, size))
    assert all(c[0].size <= size for c in parts)
    assert np.array_equal(np.concatenate([c[0] for c in parts]), pre)
    assert np.array_equal(np.concatenate([c[1] for c in parts]), post)
    assert a.random() == b.random()  # the generator is where one call leaves it


def test_weights_drawn_in_chunks_match_one_draw(monkeypatch):
    import snn.build

    def net():
        n = two_groups(3)
        n.connect("ab", "a", "b", snn.FixedProbability(0.3), weight=snn.Uniform(0.5, 1.5), delay=2)
        n.connect("ba", "b", "a", snn.FixedInDegree(3), weight=snn.Uniform(0.0, 1.0))
        return n

    whole = net().build()
    monkeypatch.setattr(snn.build, "CHUNK", 5)
    chunked = net().build()
    for name in ("syn_ptr", "syn_post", "syn_weight", "syn_delay", "syn_exc", "syn_rule"):
        assert np.array_equal(getattr(whole, name), getattr(chunked, name)), name
    for proj in ("ab", "ba"):
        assert np.array_equal(whole.proj_positions[proj], chunked.proj_positions[proj])
