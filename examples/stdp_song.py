"""Song, Miller & Abbott (2000): competitive Hebbian learning through STDP.

    python examples/stdp_song.py [--seconds 300] [--mode float|fixed] [--weight-bits 8] [--out out/]

1000 Poisson inputs at 15 Hz drive one LIF neuron through excitatory synapses with
additive, all-to-all pair STDP whose depression slightly outweighs potentiation
(A- / A+ = 1.05, tau+ = tau- = 20 ms). Starting from uniform weights, the weights
split into two groups, near 0 and near w_max: the distribution becomes bimodal, and the
output rate settles. Writes the weight histogram before and after and the weight
evolution. The current-based synapse stands in for Song's conductance: w_max = 0.6 mV
is g_max = 0.01 times the 60 mV driving force at rest.

In fixed mode with the default 8-bit weights, one STDP step (0.6 % of w_max) is below one
weight LSB, so updates round to 0 or 1 LSB and learning is coarse (see "Limits" in
docs/core-arithmetic.md); ``--weight-bits 12`` shows the same learning as float mode.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import snn  # noqa: E402

W_MAX = 0.6  # mV


def song_network(seconds: float, seed: int = 7) -> snn.Network:
    """The network of the example (1000 inputs -> 1 neuron, plastic)."""
    net = snn.Network(dt=0.1, duration=seconds * 1000.0, seed=seed)
    inputs = net.poisson("inputs", 1000, rate=15.0)
    neuron = net.lif(
        "neuron",
        1,
        tau_m=10.0,
        tau_syn_e=5.0,
        v_rest=-74.0,
        v_thresh=-54.0,
        v_reset=-60.0,
        t_ref=0.0,
        v_init=-74.0,
    )
    rule = snn.PairSTDP(
        a_plus=0.01 * W_MAX,
        a_minus=0.0105 * W_MAX,
        tau_plus=20.0,
        tau_minus=20.0,
        w_min=0.0,
        w_max=W_MAX,
        mode="additive",
        pairing="all",
    )
    net.connect("input", inputs, neuron, snn.AllToAll(), weight=snn.Uniform(0.0, W_MAX), stdp=rule)
    net.record_spikes(neuron)
    net.record_weights("input", every=int(round(seconds * 1000.0 / 0.1 / 50)))
    return net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="simulated seconds (default 300)")
    parser.add_argument("--mode", choices=["float", "fixed"], default="float")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument(
        "--weight-bits", type=int, default=8, help="fixed mode: weight width of the core (default 8)"
    )
    args = parser.parse_args()

    net = song_network(args.seconds)
    w0 = net.build().projection_weights("input")
    spec = snn.CoreSpec(weight_bits=args.weight_bits) if args.mode == "fixed" else None
    res = snn.simulate(net, mode=args.mode, spec=spec)
    w = res.weights["input"]
    spikes = res.spikes["neuron"]
    first, last = (np.sum(spikes.times < 10_000.0), np.sum(spikes.times >= res.duration - 10_000.0))
    window = min(10.0, args.seconds)
    print(
        f"output rate: first {window:g} s {first / window:.1f} Hz, last {window:g} s {last / window:.1f} Hz"
    )
    low, high = np.mean(w < 0.2 * W_MAX), np.mean(w > 0.8 * W_MAX)
    print(f"weights: {low:.0%} below 0.2 w_max, {high:.0%} above 0.8 w_max (bimodal when both are large)")

    args.out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    bins = np.linspace(0.0, W_MAX, 41)
    axes[0].hist(w0, bins=bins, color="0.6", label="before")
    axes[0].hist(w, bins=bins, color="tab:blue", alpha=0.8, label=f"after {args.seconds:g} s")
    axes[0].set_xlabel("weight (mV)")
    axes[0].set_ylabel("synapses")
    axes[0].set_title(f"Weight distribution ({args.mode} mode)")
    axes[0].legend()
    snaps = res.weight_snapshots["input"]
    t = res.weight_snapshot_steps["input"] * res.dt / 1000.0
    for q, style in ((0.1, ":"), (0.5, "-"), (0.9, "--")):
        axes[1].plot(t, np.quantile(snaps, q, axis=1), style, color="tab:blue", label=f"{q:.0%} quantile")
    axes[1].set_xlabel("time (s)")
    axes[1].set_ylabel("weight (mV)")
    axes[1].set_title("Weights during learning")
    axes[1].legend()
    fig.tight_layout()
    path = args.out / f"stdp_song_{args.mode}.png"
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
