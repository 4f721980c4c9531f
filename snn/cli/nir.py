"""``snn nir import MODEL.nir -o NET.toml --dt 1e-4`` and ``snn nir export NET.toml -o MODEL.nir``."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``nir import`` and ``nir export``."""
    p = subparsers.add_parser(
        "nir", help="convert between NIR graphs (snnTorch, Norse, ...) and network files"
    )
    sub = p.add_subparsers(dest="nir_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="NIR graph -> network file (.toml); prints each population's lag")
    imp.add_argument("model", metavar="MODEL.nir", type=Path, help="NIR file")
    imp.add_argument(
        "-o", "--output", type=Path, required=True, metavar="NET.toml", help="network file to write"
    )
    imp.add_argument(
        "--dt",
        type=float,
        metavar="DT",
        help="timestep in the graph's time unit (seconds for snnTorch and Norse; snnTorch's numbers assume "
        "1e-4); default: the graph's metadata dt",
    )
    imp.add_argument("--steps", type=int, default=100, help="duration of the network in steps (default: 100)")
    imp.set_defaults(func=run_import)
    exp = sub.add_parser("export", help="network file -> NIR graph (HDF5)")
    exp.add_argument("network", metavar="NET", type=Path, help="network file (.toml)")
    exp.add_argument(
        "-o", "--output", type=Path, required=True, metavar="MODEL.nir", help="NIR file to write"
    )
    exp.set_defaults(func=run_export)


def _nir():
    from ..errors import NetworkError

    try:
        import nir  # noqa: F401

        from .. import nir as snn_nir
    except ModuleNotFoundError as exc:
        if exc.name != "nir":
            raise
        raise NetworkError("NIR support needs the nir package: pip install 'snn[nir]'") from None
    return snn_nir


def run_import(args: argparse.Namespace) -> int:
    """Import, save as a network file, print the time mapping."""
    from .. import io
    from ..errors import NetworkError

    snn_nir = _nir()
    if args.steps < 1:
        raise NetworkError(f"--steps must be >= 1, got {args.steps}")
    if not args.model.is_file():
        raise FileNotFoundError(f"{args.model}: no such file")
    try:
        imported = snn_nir.read(args.model, args.dt, duration_steps=args.steps)
    except NetworkError as exc:
        raise NetworkError(f"{args.model}: {exc}") from None
    args.output.parent.mkdir(parents=True, exist_ok=True)
    io.save(imported.network, args.output)
    net = imported.network
    print(f"{args.model} -> {args.output}: {len(net.lif_groups)} LIF groups, {net.n_neurons} neurons, "
          f"{len(net.projections)} projections")  # fmt: skip
    print(imported.report())
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Load a network file and write it as NIR."""
    from .. import io

    snn_nir = _nir()
    network = io.load(args.network)
    path = snn_nir.save(network, args.output)
    print(
        f"{args.network} -> {path}: {len(network.populations)} populations, {len(network.projections)} projections"
    )
    return 0
