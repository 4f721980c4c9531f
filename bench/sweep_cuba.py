"""Benchmark of snn.sweep: a 100-run sweep of CUBA 4k in one process vs a Dask LocalCluster.

The sweep is ``ee.weight`` over ``runs / seeds`` values times ``seeds`` trial seeds of
examples/networks/cuba.toml (4000 LIF neurons, float mode, numba, 1 thread per run), each
run ``--duration`` ms. "One process" is ``scheduler="synchronous"`` (the same runs one
after another in this process); "local cluster" is the default ``LocalCluster`` (one
worker process per core), its start-up included. Both are timed ``--repeats`` times,
alternating; the result is the ratio one-process / cluster (median and range) with the
machine and the date::

    python bench/sweep_cuba.py                     # 100 runs of 200 ms, 3 repeats
    python bench/sweep_cuba.py --duration 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import snn

CUBA = Path(__file__).resolve().parent.parent / "examples" / "networks" / "cuba.toml"


def _grid(runs: int, seeds: int) -> dict:
    values = runs // seeds
    return {"ee.weight": [round(float(w), 4) for w in np.linspace(1.2, 2.0, values)]}


def main() -> None:
    """Time the sweep both ways and print the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100, help="runs in the sweep (default 100)")
    ap.add_argument("--seeds", type=int, default=10, help="trial seeds per weight (default 10)")
    ap.add_argument("--duration", type=float, default=200.0, help="simulated ms per run (default 200)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of each way (default 3)")
    ap.add_argument("--workers", type=int, default=None, help="cluster workers (default: the cores)")
    args = ap.parse_args()
    net = snn.io.load(CUBA)
    grid, seeds = _grid(args.runs, args.seeds), list(range(args.seeds))
    common = dict(seeds=seeds, duration=args.duration, progress=False)
    snn.simulate(net, duration=1.0, progress=False)  # compile (numba cache) outside the timings
    times: dict[str, list[float]] = {"one process": [], "local cluster": []}
    tables = {}
    for _ in range(args.repeats):
        for way, kwargs in (
            ("one process", {"scheduler": "synchronous"}),
            ("local cluster", {"workers": args.workers}),
        ):
            t0 = time.perf_counter()
            res = snn.sweep(net, grid, **common, **kwargs)
            times[way].append(time.perf_counter() - t0)
            assert not res.errors, res.errors[0]
            tables[way] = res.rows
    assert tables["one process"] == tables["local cluster"], "the two ways must give the same table"
    n = len(tables["one process"])
    ratios = [a / b for a, b in zip(times["one process"], times["local cluster"])]
    print(f"CUBA 4k sweep: {n} runs of {args.duration:g} ms (ee.weight x {args.seeds} seeds), float mode")
    for way, ts in times.items():
        print(f"  {way:<14} median {statistics.median(ts):7.1f} s  range {min(ts):.1f}-{max(ts):.1f} s")
    print(
        f"  speed-up one process / local cluster: median {statistics.median(ratios):.2f}x "
        f"(range {min(ratios):.2f}-{max(ratios):.2f}, {args.repeats} repeats)"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"  machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {load:.1f} at the end; {datetime.date.today().isoformat()}"
    )


if __name__ == "__main__":
    main()
