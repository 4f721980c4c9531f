"""One board build: elaborate, synthesize, place and route, pack; then read the reports."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hdl.link.params import LinkParams
from hdl.weight_memory import is_ice40_up
from snn.core_spec import CoreSpec
from snn.errors import NetworkError

from . import toolchain
from .boards import Board
from .capacity import weight_problem
from .pll import plan
from .report import Report, read_report
from .rtlil import mark_collision_free
from .top import BuildTop

NAME = "snn_top"  # file stem of every product (snn_top.bin, snn_top.rpt, ...)


@dataclass
class BuildResult:
    """What a build left: the bitstream (``None`` when it failed), its report, timings."""

    board: Board
    spec: CoreSpec
    params: LinkParams
    build_dir: Path
    bitstream: Path | None
    report: Report
    seconds: float
    error: str | None = None
    files: list[Path] = field(default_factory=list)


def link_params(board: Board, baud: int, clock_hz: int | None) -> LinkParams:
    """The link's parameters at the clock the build reaches (a PLL's may differ slightly)."""
    clock = board.clock_hz
    if clock_hz is not None and clock_hz != board.clock_hz:
        _, clock = plan(board.family, board.clock_hz, clock_hz)
    params = LinkParams(clock_hz=clock, baud=baud, credits=board.credits)
    params.divisor  # noqa: B018 - raises a clear error for a baud too fast for the clock
    return params


def build(
    spec: CoreSpec, board: Board, build_dir: Path, *, baud: int = 1_000_000, clock_hz: int | None = None
) -> BuildResult:
    """Build ``spec`` for ``board`` in ``build_dir``; a design that does not fit or route
    gives a result with ``error`` set and the utilisation nextpnr reported."""
    if not board.bitstream:
        raise NetworkError(f"{board.name} has no open place and route: use its Verilog + XDC export")
    problem = weight_problem(spec, board)
    if problem:
        raise NetworkError(f"{board.name}: {problem}")
    lacking = toolchain.missing(board.family)
    if lacking:
        raise NetworkError(f"missing {', '.join(lacking)}: {toolchain.INSTALL_HINT}")
    try:
        params = link_params(board, baud, clock_hz)
    except ValueError as exc:
        raise NetworkError(str(exc)) from None
    platform = board.platform_class()()
    top = BuildTop(spec, params, board.clock_hz, board.family)
    # --report: nextpnr's utilisation and Fmax as JSON; --timing-allow-fail: a design that
    # misses the clock still gives a bitstream and a report that says by how much
    opts = {"nextpnr_opts": "--report report.json --timing-allow-fail"}
    if is_ice40_up(board):  # the UltraPlus has SB_MAC16
        # -dsp: its multipliers (yosys leaves them in LUTs otherwise); -dff: ABC maps the
        # logic with the flip-flops in view (fewer cells for the default core on the UP5K)
        opts["synth_opts"] = "-dsp -dff"
    if board.family == "ecp5":
        # router2: the wide core (16 lanes, ~18k LUT4 around 100 DSPs) leaves router1 with
        # ~90k overused wires after 15 minutes; router2 converges in a few
        opts["nextpnr_opts"] += " --router router2"
    build_dir = Path(build_dir)
    start = time.monotonic()
    plan_ = platform.prepare(top, NAME, **opts)
    il = f"{NAME}.il"
    plan_.files[il] = mark_collision_free(plan_.files[il])
    error = None
    try:
        plan_.execute_local(str(build_dir), env=toolchain.environment(board.family))
    except subprocess.CalledProcessError as exc:
        error = f"the toolchain stopped ({exc.returncode}); see {build_dir / (NAME + '.tim')}"
    seconds = time.monotonic() - start
    report = read_report(build_dir, NAME, board.family)
    ext = ".bin" if board.family == "ice40" else ".bit"
    bitstream = build_dir / (NAME + ext)
    if error is None and not (bitstream.is_file() and bitstream.stat().st_size > 0):
        error = f"no bitstream at {bitstream}"
    if error is not None and report.error:
        error = report.error
    return BuildResult(
        board, spec, params, build_dir, bitstream if error is None else None, report, seconds, error
    )
