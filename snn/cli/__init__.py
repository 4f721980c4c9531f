"""The ``snn`` console script. Each subcommand lives in its own module of this package
and registers itself through ``add_parser(subparsers)``; ``main`` turns expected errors
(bad networks, missing files) into one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from ..errors import NetworkError

# module name -> subcommands it registers (imported lazily so that `snn --help` is fast)
SUBCOMMAND_MODULES = ("info", "run", "bench", "hdl", "board", "sweep", "nir")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="snn",
        description="Spiking neural network co-design toolkit: simulate, generate the core, drive the board.",
    )
    parser.add_argument("--version", action="version", version=f"snn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # subcommand not part of this build
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``snn`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (NetworkError, OSError) as exc:  # OSError: files (named by path), ports
        print(f"snn {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except MemoryError:  # a last resort: snn.limits checks sizes before allocating
        print(
            f"snn {args.command}: error: out of memory; make the network smaller or record less "
            "(SNN_MEMORY_BUDGET sets the budget that snn checks first)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"snn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
