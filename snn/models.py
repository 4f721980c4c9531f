"""Ready-made networks used by the examples, the benchmarks and the tests."""

from __future__ import annotations

from .connectivity import FixedProbability
from .network import Network
from .values import Uniform


def cuba(n: int = 4000, duration: float = 1000.0, seed: int = 1, dt: float = 0.1) -> Network:
    """The CUBA benchmark (Vogels & Abbott 2005; Brette et al. 2007), Brian2's variant.

    80 % excitatory, 20 % inhibitory LIF neurons; tau_m 20 ms, current-based exponential
    synapses (5 ms / 10 ms), v_rest -49 mV, threshold -50 mV, reset -60 mV, refractory
    5 ms; weights +1.62 mV / -9 mV; each pair connected with probability
    ``0.02 * 4000 / n`` (self connections included, as in Brian2), so that the in-degree
    of N = 4000 (64 excitatory + 16 inhibitory inputs on average) holds at every size;
    ``v`` starts uniform in [-60, -50] mV. Matches ../shared/bench/peers/cuba_brian2.py.
    """
    net = Network(dt=dt, duration=duration, seed=seed)
    n_exc = int(n * 0.8)
    lif = dict(
        tau_m=20.0,
        tau_syn_e=5.0,
        tau_syn_i=10.0,
        v_rest=-49.0,
        v_thresh=-50.0,
        v_reset=-60.0,
        t_ref=5.0,
        i_bias=0.0,
        v_init=Uniform(-60.0, -50.0),
    )
    exc = net.lif("exc", n_exc, **lif)
    inh = net.lif("inh", n - n_exc, **lif)
    p = min(1.0, 0.02 * 4000 / n)
    for pre, weight, target in ((exc, 1.62, "exc"), (inh, -9.0, "inh")):
        for post in (exc, inh):
            net.connect(
                f"{pre.name}_{post.name}",
                pre,
                post,
                FixedProbability(p),  # Brian2 connects i -> i too
                weight=weight,
                target=target,
            )
    net.record_spikes(exc, inh)
    net.record_rate(exc, inh)
    return net
