"""Benchmark of the torch backend: CUBA at scale, and batch throughput of the digits network.

CUBA (``snn.models.cuba``: 80 synapses per neuron on average, dt = 0.1 ms, float32) at
64k, 256k and 1M neurons: wall seconds per simulated second (below 1: faster than real
time) and synaptic events per second, for each propagation strategy. Then the digits
network (64 -> 128 -> 10, 25 steps per digit) in a batch: digits per second, float and
fixed mode. Runs on the CPU for small sizes now and unchanged on a GPU (``--device cuda``)::

    python bench/torch_cuba.py --sizes 64000 --duration 200 --device cpu
    python bench/torch_cuba.py --device cuda          # 64k, 256k, 1M; 1 s simulated
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from snn.models import cuba
from snn.torch_backend import TorchSimulator
from snn.torch_backend.training import SpikingMLP, rate_code


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench_cuba(n: int, duration: float, device: str, propagation: str, warmup: float = 10.0) -> dict:
    """One CUBA run: build, warm up for ``warmup`` ms, then time ``duration`` ms."""
    net = cuba(n=n, duration=warmup + duration)
    t0 = time.perf_counter()
    sim = TorchSimulator(net, "float", dtype="float32", device=device, propagation=propagation)
    setup = time.perf_counter() - t0
    warm = int(round(warmup / net.dt))
    sim.run(warm)
    events0 = int(sim.monitors.events.sum())
    _sync(device)
    t0 = time.perf_counter()
    sim.run(int(round(duration / net.dt)))
    _sync(device)
    wall = time.perf_counter() - t0
    events = int(sim.monitors.events.sum()) - events0
    res = sim.results()[0]
    rate = res.n_spikes / (n * res.duration / 1000.0)
    return {"n": n, "synapses": sim.syn.n_synapses, "propagation": sim.propagation, "setup_s": setup,
            "s_per_s": wall / (duration / 1000.0), "events_per_s": events / wall, "rate_hz": rate}  # fmt: skip


def bench_digits(batch: int, mode: str, device: str, repeats: int = 3) -> float:
    """Digits per second of a (random-weight) 64 -> 128 -> 10 network, ``batch`` digits at once."""
    from sklearn.datasets import load_digits

    model = SpikingMLP([64, 128, 10], weight_scale=40.0)
    data = load_digits().data / 16.0
    x = rate_code(data[np.arange(batch) % len(data)], 25)
    net = model.to_network(np.zeros(0, np.int64), np.zeros(0, np.int64), 25)
    q = model.to_quantized(net) if mode == "fixed" else None
    best = float("inf")
    for _ in range(repeats):
        sim = TorchSimulator(net, mode, quantized=q, inputs=x, device=device)
        _sync(device)
        t0 = time.perf_counter()
        sim.run(25)
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return batch / best


def main(argv: list[str] | None = None) -> None:
    """Print the CUBA and digits tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64_000, 256_000, 1_000_000])
    ap.add_argument(
        "--duration", type=float, default=1000.0, help="simulated ms per size (after a 10 ms warm-up)"
    )
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--propagation", nargs="+", default=["event", "sparse"])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 64, 1024])
    ap.add_argument(
        "--threads", type=int, default=1, help="CPU threads for torch (more oversubscribe a busy machine)"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    name = (
        torch.cuda.get_device_name()
        if args.device.startswith("cuda")
        else f"CPU, {torch.get_num_threads()} threads"
    )
    print(f"torch {torch.__version__} on {name}")
    print(
        f"{'neurons':>9} {'synapses':>11} {'propagation':>11} {'setup s':>8} {'s/sim s':>9} {'events/s':>10} {'rate Hz':>8}"
    )
    for n in args.sizes:
        for prop in args.propagation:
            r = bench_cuba(n, args.duration, args.device, prop)
            print(f"{r['n']:>9} {r['synapses']:>11} {r['propagation']:>11} {r['setup_s']:>8.1f} "
                  f"{r['s_per_s']:>9.2f} {r['events_per_s']:>10.3g} {r['rate_hz']:>8.1f}")  # fmt: skip
    print(f"\n{'digits batch':>12} {'float digits/s':>15} {'fixed digits/s':>15}")
    for b in args.batches:
        print(
            f"{b:>12} {bench_digits(b, 'float', args.device):>15.0f} {bench_digits(b, 'fixed', args.device):>15.0f}"
        )


if __name__ == "__main__":
    main()
