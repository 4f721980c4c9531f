"""``snn sweep NETWORK --param NAME.PARAM=V1,V2 --seeds A:B -o OUT.csv``: a parameter sweep on Dask."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sweep``."""
    p = subparsers.add_parser(
        "sweep",
        help="run a network over a grid of parameters and seeds (Dask: local cores, a cluster, or boards)",
        description="One row per combination of --param values and seed, with the columns seed, "
        "NAME.PARAM and NAME.spikes / NAME.rate_hz for every LIF population; see docs/sweeps.md.",
    )
    p.add_argument("network", metavar="NETWORK", type=Path, help="network file (.toml)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME.PARAM=V1,V2,...",
        help="values of a population or projection parameter (repeatable: a grid), or of duration, "
        "mode, backend, network.seed, network.dt",
    )
    p.add_argument(
        "--seeds",
        metavar="A:B",
        help="trial seeds A..B-1 (or S1,S2,...): inputs and initial state per seed (default: the network as is)",
    )
    p.add_argument(
        "-o", "--out", type=Path, metavar="OUT.csv", help="the table (.csv, or .parquet with pyarrow)"
    )
    p.add_argument("--mode", choices=("float", "fixed"), default="float", help="arithmetic (default: float)")
    p.add_argument(
        "--backend", choices=("numba", "torch"), default="numba", help="simulator (default: numba)"
    )
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument(
        "--duration", type=float, metavar="MS", help="simulated time of every run (default: the file's)"
    )
    p.add_argument(
        "--metrics",
        default="spikes,rates",
        help="comma-separated: spikes, rates, cv (ISI CV), weights (final weight statistics); default spikes,rates",
    )
    p.add_argument(
        "--function",
        metavar="FILE.py:NAME",
        help="a Python function of snn.Results that returns more columns",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="a running Dask scheduler (default: a local cluster); 'synchronous' runs in this process",
    )
    where.add_argument(
        "--workers", type=int, metavar="N", help="local cluster processes (default: the cores)"
    )
    p.add_argument(
        "--ports",
        metavar="PORT1,PORT2",
        help="run on boards, one run per board at a time ('sim' = a simulated core)",
    )
    p.add_argument("--plot", type=Path, metavar="PNG", help="plot a one- or two-parameter sweep")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)


def load_function(spec: str):
    """``FILE.py:NAME`` -> the function, pickled by value so that workers need not import the file."""
    from ..errors import NetworkError

    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise NetworkError(f"--function {spec!r}: write FILE.py:NAME")
    file = Path(path)
    if not file.is_file():
        raise NetworkError(f"--function {spec!r}: no file {file}")
    module_spec = importlib.util.spec_from_file_location(f"snn_sweep_user_{file.stem}", file)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise NetworkError(f"--function {spec!r}: {file} defines no function {name!r}")
    try:
        import cloudpickle

        cloudpickle.register_pickle_by_value(module)
    except (ImportError, ValueError):
        pass
    return fn


def run(args: argparse.Namespace) -> int:
    """Parse the grid, run the sweep, print a summary."""
    from ..errors import NetworkError
    from ..sweep import parse_param, parse_seeds, sweep

    params: dict = {}
    for spec in args.param:
        name, values = parse_param(spec)
        if name in params:
            raise NetworkError(f"--param {name} given twice; list all its values in one --param")
        params[name] = values
    seeds = parse_seeds(args.seeds) if args.seeds else None
    ports = args.ports.split(",") if args.ports else None
    options = {"device": args.device} if args.backend == "torch" else {}
    result = sweep(
        args.network,
        params,
        seeds=seeds,
        metrics=[m.strip() for m in args.metrics.split(",") if m.strip()],
        function=load_function(args.function) if args.function else None,
        mode=args.mode,
        backend=args.backend,
        duration=args.duration,
        out=args.out,
        scheduler=args.scheduler,
        workers=args.workers,
        ports=ports,
        progress=not args.quiet,
        plot=args.plot,
        **options,
    )
    if args.out is None:  # no file: the table on stdout (also with --quiet)
        import csv
        import sys

        from ..sweep.table import cell

        w = csv.writer(sys.stdout)
        w.writerow(result.columns)
        for row in result.rows:
            w.writerow([cell(row.get(c)) for c in result.columns])
    if not args.quiet:
        failed = result.errors
        print(
            f"{len(result.rows)} runs, {len(failed)} failed" + (f"; table in {args.out}" if args.out else "")
        )
        for row in failed[:3]:
            print(f"  run {row['run']}: {row['error']}")
        if args.plot:
            print(f"plot in {args.plot}")
    return 0
