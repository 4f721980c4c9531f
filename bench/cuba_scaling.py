"""How the CPU engine's cost grows with N and with the firing rate; writes docs/cuba_scaling.png.

    python bench/cuba_scaling.py --bench out/bench_main.json out/bench_1M.json \
        --rate-n 16000 --seconds 0.5 --out docs/cuba_scaling.png

Left and middle: run time per simulated second and peak memory against N, from the JSON
files of ``snn bench cuba --json`` (median and min-max of the repeats). Right: CUBA at
one size with its inhibitory weights scaled down to raise the rate; one process, one
thread, CPU seconds of the run (process time: robust to other processes on the machine),
with the least-squares line ``cost = a + b * rate`` (a: the neuron update and the
per-step work, b: the synaptic events).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

# scale of the inhibitory weights: CUBA's rate hardly moves with a bias current (inhibition
# follows), weaker inhibition raises it from about 6 Hz to tens of Hz
INH_SCALES = (1.0, 0.8, 0.7, 0.6, 0.5, 0.45)


def load_rows(paths: list[Path]) -> list[dict]:
    """Rows of one or more ``snn bench cuba --json`` files, sorted by N."""
    rows = []
    for path in paths:
        rows += json.loads(path.read_text())["rows"]
    return sorted(rows, key=lambda r: r["N"])


def series(rows: list[dict], key: str, field: str, scale: float = 1.0):
    """``(N, median, low, high)`` arrays of ``field`` of configuration ``key``."""
    out = []
    for r in rows:
        vals = [m[field] * scale for m in r["runs"].get(key, []) if m is not None]
        if vals:
            out.append((r["N"], statistics.median(vals), min(vals), max(vals)))
    return np.array(out).reshape(-1, 4)


def rate_sweep(n: int, seconds: float) -> np.ndarray:
    """``(rate Hz, CPU s per simulated s, events per simulated s)`` for each scale in ``INH_SCALES``."""
    from snn.models import cuba
    from snn.sim import Simulator

    out = []
    for scale in INH_SCALES:
        net = cuba(n, duration=seconds * 1000.0)
        for name in ("inh_exc", "inh_inh"):
            net.projections[name].weight = net.projections[name].weight * scale
        sim = Simulator(net, dtype="float32", threads=1, progress=False)
        sim.run(1)  # compile / load
        c0 = time.process_time()
        sim.run(net.n_steps - 1)
        cpu = time.process_time() - c0
        res = sim.results()
        out.append((res.n_spikes / n / seconds, cpu / seconds, sim.n_events / seconds))
        print(f"inhibition x{scale:.2f}: {out[-1][0]:.1f} Hz, {out[-1][1]:.3f} CPU s/s", flush=True)
    return np.array(out)


def main() -> None:
    """Plot the three panels."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", type=Path, nargs="+", required=True, help="snn bench cuba --json files")
    ap.add_argument("--rate-n", type=int, default=16000, help="N of the rate sweep")
    ap.add_argument("--seconds", type=float, default=0.5, help="simulated seconds per rate point")
    ap.add_argument("--out", type=Path, default=Path("docs/cuba_scaling.png"))
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = load_rows(args.bench)
    sweep = rate_sweep(args.rate_n, args.seconds)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    seconds = json.loads(args.bench[0].read_text())["seconds"]
    for key, label in (("1t", "ours, 1 thread"), ("2t", "ours, 2 threads"), ("yardstick", "plain loop"),
                       ("brian2", "Brian2 cpp")):  # fmt: skip
        s = series(rows, key, "wall_s", 1.0 / seconds)
        if s.size:
            axes[0].errorbar(s[:, 0], s[:, 1], yerr=[s[:, 1] - s[:, 2], s[:, 3] - s[:, 1]], marker="o",
                             capsize=2, label=label)  # fmt: skip
        m = series(rows, key, "peak_mb")
        if m.size and key in ("1t", "brian2"):
            axes[1].plot(m[:, 0], m[:, 1], marker="o", label=f"{label}: process peak")
    b = series(rows, "1t", "build_peak_mb")
    if b.size:
        axes[1].plot(b[:, 0], b[:, 1], marker="s", ls="--", label="ours: peak after build")
    for ax, ylabel in ((axes[0], "wall s per simulated s"), (axes[1], "peak resident MB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("neurons (80 synapses each)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    rate, cost = sweep[:, 0], sweep[:, 1]
    slope, icept = np.polyfit(rate, cost, 1)
    axes[2].plot(rate, cost, "o", label=f"CUBA {args.rate_n:,}, 1 thread")
    xs = np.linspace(0, rate.max() * 1.05, 50)
    axes[2].plot(xs, icept + slope * xs, "-", label=f"{icept:.3f} + {slope:.4f} x rate")
    axes[2].set_xlabel("mean rate (Hz)")
    axes[2].set_ylabel("CPU s per simulated s")
    axes[2].legend(fontsize=7)
    axes[2].grid(alpha=0.3)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=80)
    per_event = slope / (args.rate_n * 80)  # s per (Hz * synapse): one event per spike per synapse
    print(f"wrote {args.out}; fit: {icept:.4f} s/s at rate 0, {per_event * 1e9:.2f} ns per synaptic event")


if __name__ == "__main__":
    main()
