"""``snn run NETWORK``: simulate a network file, print a summary, write plots and results."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``run``."""
    p = subparsers.add_parser(
        "run", help="simulate a network file on the CPU (float or hardware-exact fixed mode)"
    )
    p.add_argument("network", metavar="NETWORK", type=Path, help="network file (.toml) or NIR graph (.nir)")
    p.add_argument(
        "--dt", type=float, metavar="DT", help="a NIR file's timestep in its time unit (when it has none)"
    )
    p.add_argument("--mode", choices=("float", "fixed"), default="float", help="arithmetic (default: float)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="float mode precision")
    p.add_argument("--duration", type=float, metavar="MS", help="simulated time in ms (default: the file's)")
    p.add_argument("--plot", type=Path, metavar="PNG", help="write a spike raster")
    p.add_argument("--rate-plot", type=Path, metavar="PNG", help="write the population rates")
    p.add_argument(
        "--out", type=Path, metavar="NPZ", help="write the results (.npz, snn.Results.load reads it)"
    )
    p.add_argument("--threads", type=int, default=1, metavar="N", help="threads (default: 1)")
    p.add_argument(
        "--inputs",
        type=Path,
        metavar="NPY|NPZ",
        help="spikes for spike sources, (steps, n) 0/1 arrays: an .npz keyed by source name, or an "
        ".npy for a network with one source; the run lasts their steps unless --duration says otherwise",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load, simulate, report, write the requested files."""
    from ..errors import NetworkError
    from ..nir import load_file
    from ..sim import simulate

    if args.duration is not None and not args.duration > 0:
        raise NetworkError(f"--duration must be > 0 ms, got {args.duration:g}")
    network = load_file(args.network, args.dt)
    if args.rate_plot is not None:  # rates come from monitors: ask for them
        network.record_rate(*network.lif_groups)
    kwargs = {"dtype": args.dtype} if args.mode == "float" else {}
    if args.mode == "fixed" and args.dtype != "float64":
        raise NetworkError("--dtype applies to --mode float only")
    # create output folders before the run, so that a long simulation is not lost to a typo
    for path in (args.plot, args.rate_plot, args.out):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    if args.inputs is not None:
        from ..sim.inputs import load_inputs

        kwargs["inputs"] = load_inputs(args.inputs, network)
    t0 = time.perf_counter()
    try:
        res = simulate(
            network, args.mode, duration=args.duration, threads=args.threads,
            progress=False if args.quiet else None, **kwargs,
        )  # fmt: skip
    except NetworkError as exc:
        raise NetworkError(f"{args.network}: {exc}") from None
    wall = time.perf_counter() - t0
    if not args.quiet:
        print(summary(res, str(args.network), wall))
    if args.plot is not None:
        res.plot_raster(args.plot)
    if args.rate_plot is not None:
        res.plot_rate(args.rate_plot)
    if args.out is not None:
        res.save(args.out)
    return 0


def summary(res, name: str, wall: float) -> str:
    """A short human-readable summary of a run."""
    seconds = res.duration / 1000.0
    lines = [
        f"{name}: {res.mode} mode, {res.n_neurons} neurons, {res.n_synapses} synapses, "
        f"{res.n_steps} steps of {res.dt:g} ms ({res.duration:g} ms)",
        f"spikes: {res.n_spikes}, synaptic events: {res.n_events}",
    ]
    for pop in res.population_sizes:
        lines.append(f"  {pop}: {res.spike_counts[pop]} spikes, mean rate {res.mean_rate(pop):.2f} Hz")
    speed = res.run_s / seconds if seconds > 0 else float("nan")
    lines.append(
        f"compile {res.compile_s:.2f} s, run {res.run_s:.3f} s ({speed:.3f} s per simulated s), total {wall:.2f} s"
    )
    return "\n".join(lines)
