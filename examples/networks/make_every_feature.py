"""Regenerate ``every_feature.toml`` and ``every_feature.npz``: a small network that uses
every feature of the file format (the round-trip test of ``snn.io`` loads it).

Run: ``python examples/networks/make_every_feature.py``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import snn
from snn import io

HERE = Path(__file__).resolve().parent


def every_feature_network() -> snn.Network:
    """Every population kind, parameter form, connectivity rule, STDP rule and recording."""
    net = snn.Network(dt=0.1, duration=50.0, seed=42)
    n_exc, n_inh = 20, 5
    exc = net.lif(
        "exc",
        n_exc,
        tau_m=20.0,  # scalar
        v_rest=np.linspace(-65.0, -60.0, n_exc),  # one value per neuron
        t_ref=np.full(n_exc, 2.5),
        v_init=snn.Uniform(-65.0, -55.0),  # drawn from the network seed
        i_bias=snn.Normal(1.0, 0.25),
    )
    inh = net.lif("inh", n_inh, tau_syn_i=np.array([8.0, 9.0, 10.0, 11.0, 12.0]), v_reset=-70.0)
    noise = net.poisson("noise", 10, rate=20.0, seed=7)
    drive = net.poisson("drive", 4, rate=np.array([5.0, 10.0, 15.0, 20.0]))
    stim_t = net.spikes("stim_t", n_exc, ids=np.arange(n_exc), times=np.linspace(1.0, 40.0, n_exc))
    stim_s = net.spikes("stim_s", 3, ids=[0, 1, 2, 0], steps=[5, 10, 15, 300])

    pair = snn.PairSTDP(a_plus=0.02, a_minus=0.021, tau_plus=16.8, tau_minus=33.7, w_max=2.0)
    net.connect(
        "noise_exc",
        noise,
        exc,
        snn.AllToAll(),
        weight=np.linspace(0.0, 1.0, 10 * n_exc).reshape(10, n_exc),
        stdp=pair,
    )
    net.connect(
        "drive_exc",
        drive,
        exc,
        snn.FixedInDegree(2),
        weight=snn.Uniform(0.1, 0.5),
        delay=np.arange(2 * n_exc) % 7 + 1,
    )
    net.connect(
        "exc_exc",
        exc,
        exc,
        snn.FixedProbability(0.3, allow_self=False),
        weight=0.5,
        delay=3,
        seed=11,
        stdp=snn.PairSTDP(mode="multiplicative", pairing="nearest", w_min=0.1, w_max=1.5),
    )
    net.connect("exc_inh", exc, inh, snn.AllToAll(allow_self=False), weight=0.8)
    pre, post = np.array([0, 1, 2, 3, 4, 4]), np.array([0, 5, 10, 15, 19, 1])
    net.connect(
        "inh_exc",
        inh,
        exc,
        snn.Sparse(pre, post),
        target="inh",
        weight=-np.array([1.0, 1.5, 2.0, 2.5, 3.0, 0.125]),
        delay=np.array([1, 2, 3, 4, 5, 6]),
    )
    net.connect("inh_inh", inh, inh, snn.OneToOne(), target="inh", weight=snn.Uniform(-1.0, -0.5))
    net.connect(
        "stim_t_exc",
        stim_t,
        exc,
        snn.OneToOne(),
        weight=2.0,
        stdp=snn.WindowSTDP(dw_plus=0.05, dw_minus=0.04, window_pre=10, window_post=12, w_max=4.0),
    )
    net.connect("stim_s_inh", stim_s, inh, snn.FixedProbability(0.5), weight=1.0)

    net.record_spikes(exc, inh, noise)
    net.record_rate(exc, inh)
    net.record_state(exc, ("v", "i_e"), neurons=[0, 3, 5])  # short list: inline in the TOML
    net.record_state(inh, ("v", "i_e", "i_i"), every=2)  # every neuron
    net.record_state(exc, "i_i", neurons=np.arange(0, n_exc, 2), every=5)  # long list: in the npz
    net.record_weights("noise_exc", every=10)
    net.record_weights("exc_exc")
    return net


def main() -> None:
    """Write the example next to this script."""
    path = io.save(every_feature_network(), HERE / "every_feature.toml")
    print(f"wrote {path} and {path.with_suffix('.npz')}")


if __name__ == "__main__":
    main()
