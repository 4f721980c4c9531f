"""CUBA (Vogels & Abbott 2005; Brette et al. 2007): 4000 LIF neurons, 1 s.

    python examples/cuba.py [--n 4000] [--mode float|fixed] [--out out/]

Writes a raster plot and a population-rate plot, and prints the mean rate and the
coefficient of variation of the interspike intervals (compare: Brian2 gives about
5.7 Hz and 0.52 on this network, see tests/test_sim_cuba.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import snn
from snn.models import cuba


def isi_cv(steps: np.ndarray, ids: np.ndarray, n: int) -> float:
    """Mean over neurons with >= 3 spikes of std(ISI) / mean(ISI)."""
    order = np.lexsort((steps, ids))
    steps, ids = steps[order], ids[order]
    cvs = []
    for i in range(n):
        s = steps[ids == i]
        if s.size >= 3:
            isi = np.diff(s).astype(float)
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="number of neurons")
    parser.add_argument("--mode", choices=["float", "fixed"], default="float")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    args = parser.parse_args()

    net = cuba(args.n)
    res = snn.simulate(net, mode=args.mode)
    args.out.mkdir(parents=True, exist_ok=True)
    res.plot_raster(args.out / "cuba_raster.png")
    res.plot_rate(args.out / "cuba_rate.png")
    steps = np.concatenate([res.spikes["exc"].steps, res.spikes["inh"].steps])
    ids = np.concatenate([res.spikes["exc"].ids, res.spikes["inh"].ids + net.populations["exc"].n])
    rate = steps.size / args.n / (res.duration / 1000.0)
    print(
        f"{args.mode}: {steps.size} spikes, mean rate {rate:.2f} Hz, ISI CV {isi_cv(steps, ids, args.n):.3f}"
    )
    print(f"compile {res.compile_s:.2f} s, run {res.run_s:.3f} s for {res.duration / 1000:g} s simulated")
    print(f"plots: {args.out / 'cuba_raster.png'}, {args.out / 'cuba_rate.png'}")


if __name__ == "__main__":
    main()
