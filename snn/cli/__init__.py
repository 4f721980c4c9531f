"""The ``snn`` console script. Each subcommand of ``snn`` itself lives in its own module
of this package, and the packages above ``snn`` contribute theirs (``snn hdl``, ``snn
board``) through the ``snn.commands`` entry points (:mod:`snn.plugins`); each registers
itself with ``add_parser(subparsers)``. ``main`` turns expected errors (bad networks,
missing files) into one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from ..errors import NetworkError
from ..plugins import contributions

# modules of this package that register subcommands (imported lazily so that `snn --help` is fast)
SUBCOMMAND_MODULES = ("info", "run", "bench", "sweep", "nir")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="snn",
        description="Spiking neural network co-design toolkit: simulate, generate the core, drive the board.",
    )
    parser.add_argument("--version", action="version", version=f"snn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    for add_parser in contributions("snn.commands").values():
        add_parser(sub)
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
