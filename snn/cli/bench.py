"""``snn bench cuba``: our simulator and the peers on the CUBA network, side by side.

Other benchmarks come from the packages above ``snn`` (``snn.bench`` entry points:
``snn bench hardware`` from :mod:`hdl.fpga.bench`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import NetworkError
from ..plugins import contributions


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``snn bench``."""
    bench = sub.add_parser("bench", help="benchmarks side by side with peer simulators")
    kinds = bench.add_subparsers(dest="bench_kind", metavar="BENCHMARK", required=True)
    cuba = kinds.add_parser("cuba", help="CUBA (Brette et al. 2007) at several sizes vs Brian2 / NEST")
    cuba.add_argument("--sizes", default="4000,16000,64000,256000", help="comma-separated neuron counts")
    cuba.add_argument("--seconds", type=float, default=1.0, help="simulated seconds (default 1)")
    cuba.add_argument("--threads", default="1,2", help="comma-separated thread counts for ours")
    cuba.add_argument("--mode", choices=["float", "fixed"], default="float")
    cuba.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    cuba.add_argument("--peers", default="brian2,nest", help="comma-separated: brian2, nest, or none")
    cuba.add_argument("--peers-venv", type=Path, default=Path(".peers-venv"), help="venv with the peers")
    cuba.add_argument("--peers-dir", type=Path, default=None, help="folder of the peer scripts")
    cuba.add_argument("--timeout", type=float, default=1800.0, help="seconds per process")
    cuba.add_argument(
        "--repeats", type=int, default=3, help="runs of every configuration, interleaved (default 3)"
    )
    cuba.add_argument(
        "--no-yardstick", action="store_true", help="skip the plain numba loop (float32 float mode only)"
    )
    cuba.add_argument("--json", type=Path, default=None, help="also write all measurements here")
    cuba.add_argument("--markdown", action="store_true", help="print the table as markdown")
    cuba.set_defaults(func=run)
    for add_kind in contributions("snn.bench").values():  # `snn bench hardware` from hdl
        add_kind(kinds)


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise NetworkError(f"--{what} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise NetworkError(f"--{what} needs integers >= 1, got {text!r}")
    return values


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print the table."""
    from ..bench.cuba import PEER_SCRIPTS, find_peers_dir, markdown, run_cuba, table
    from ..bench.machine import machine_line

    sizes = _ints(args.sizes, "sizes")
    threads = _ints(args.threads, "threads")
    peers = [p for p in args.peers.split(",") if p and p != "none"]
    unknown = [p for p in peers if p not in PEER_SCRIPTS]
    if unknown:
        raise NetworkError(f"unknown peer {unknown[0]!r}; choose from {', '.join(PEER_SCRIPTS)}")
    if args.repeats < 1:
        raise NetworkError(f"--repeats needs an integer >= 1, got {args.repeats}")
    yardstick = not args.no_yardstick and (args.mode, args.dtype) == ("float", "float32")
    peers_python = args.peers_venv / "bin" / "python"
    peers_dir = args.peers_dir or find_peers_dir(Path.cwd())
    if peers and not peers_python.exists():
        print(
            f"note: no peers venv at {args.peers_venv}; set it up with "
            "`bash ../shared/bench/peers/setup.sh .peers-venv` (peers skipped)",
            file=sys.stderr,
        )
        peers_python = None
    rows = run_cuba(
        sizes,
        args.seconds,
        threads,
        peers,
        peers_python,
        peers_dir,
        mode=args.mode,
        dtype=args.dtype,
        timeout=args.timeout,
        repeats=args.repeats,
        yardstick=yardstick,
        report=lambda line: print(line, file=sys.stderr),
    )
    machine = machine_line(threads, peers_python if peers else None)
    header, cells = table(rows, args.seconds)
    title = (
        f"CUBA, {args.seconds:g} s simulated, dt 0.1 ms: wall seconds per simulated second, "
        f"median (min-max) of {args.repeats} interleaved run{'s' if args.repeats > 1 else ''}"
    )
    if args.markdown:
        print(f"{title}. Machine: {machine}\n")
        print(markdown(header, cells))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title, caption=machine)
        for h in header:
            t.add_column(h, justify="right")
        for c in cells:
            t.add_row(*c)
        Console().print(t)
    for row in rows:
        for err in row.errors:
            print(f"N={row.n}: {err}", file=sys.stderr)
    if args.json:
        data = {
            "machine": machine,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "rows": [
                {
                    "N": r.n,
                    "runs": {
                        k: [None if m is None else {**m.data, "peak_mb": m.peak_mb} for m in ms]
                        for k, ms in r.runs.items()
                    },
                    "errors": r.errors,
                }
                for r in rows
            ],
        }
        args.json.write_text(json.dumps(data, indent=1) + "\n")
    return 1 if any(r.errors for r in rows) else 0
