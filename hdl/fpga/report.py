"""Resource and timing figures of a build, read from the tools' own reports.

Three sources, in order of preference: nextpnr's JSON report (``--report``: utilisation
per cell type and Fmax per clock), nextpnr's log (``--log``, the same figures as text;
the only source when placement failed), and yosys's log (cell counts after synthesis:
LUTs and flip-flops as yosys mapped them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

# nextpnr's cell types -> the report's columns, per family
COLUMNS = {
    "ice40": {
        "logic": "ICESTORM_LC",
        "bram": "ICESTORM_RAM",
        "spram": "ICESTORM_SPRAM",
        "dsp": "ICESTORM_DSP",
        "pll": "ICESTORM_PLL",
    },
    "ecp5": {
        "logic": "TRELLIS_COMB",
        "ff": "TRELLIS_FF",
        "bram": "DP16KD",
        "dsp": "MULT18X18D",
        "pll": "EHXPLLL",
    },
}
# yosys's primitive names for LUTs and flip-flops (prefixes)
YOSYS_LUT = ("SB_LUT4", "LUT4")
YOSYS_FF = ("SB_DFF", "TRELLIS_FF")


@dataclass
class Report:
    """What one build used and reached. ``utilisation``: nextpnr cell type -> (used,
    available); ``cells``: yosys cell type -> count; ``fmax_mhz``/``target_mhz``: the
    system clock's; ``error``: nextpnr's first ERROR line (with what overflowed), if any."""

    family: str
    utilisation: dict[str, tuple[int, int]] = field(default_factory=dict)
    cells: dict[str, int] = field(default_factory=dict)
    fmax_mhz: float | None = None
    target_mhz: float | None = None
    error: str | None = None

    def used(self, column: str) -> int | None:
        """Cells used of a report column (``logic``, ``bram``, ...), ``None`` if unknown."""
        name = COLUMNS[self.family].get(column)
        return self.utilisation[name][0] if name in self.utilisation else None

    def available(self, column: str) -> int | None:
        """Cells the device has of a report column."""
        name = COLUMNS[self.family].get(column)
        return self.utilisation[name][1] if name in self.utilisation else None

    @property
    def luts(self) -> int | None:
        """LUT4s mapped by yosys (carry cells not included)."""
        return _sum(self.cells, YOSYS_LUT)

    @property
    def ffs(self) -> int | None:
        """Flip-flops: nextpnr's count where it has one (ECP5), else yosys's."""
        return self.used("ff") if self.used("ff") is not None else _sum(self.cells, YOSYS_FF)

    @property
    def timing_met(self) -> bool | None:
        """Whether Fmax reaches the constraint (``None`` when nextpnr did not get that far)."""
        if self.fmax_mhz is None or self.target_mhz is None:
            return None
        return self.fmax_mhz >= self.target_mhz

    def overflow(self) -> dict[str, float]:
        """Cell types used beyond what the device has: name -> used / available."""
        return {name: u / a for name, (u, a) in self.utilisation.items() if a and u > a}

    def fits(self) -> bool:
        """Placed and routed: no overflow and no error."""
        return self.error is None and not self.overflow() and bool(self.utilisation)

    def to_dict(self) -> dict:
        """Plain data for ``--json``."""
        cols = COLUMNS[self.family]
        return {
            "family": self.family,
            "luts": self.luts,
            "ffs": self.ffs,
            **{
                col: {"used": self.used(col), "available": self.available(col)}
                for col in cols
                if cols[col] in self.utilisation
            },
            "fmax_mhz": self.fmax_mhz,
            "target_mhz": self.target_mhz,
            "timing_met": self.timing_met,
            "overflow": self.overflow(),
            "error": self.error,
            "utilisation": {k: list(v) for k, v in self.utilisation.items()},
            "cells": self.cells,
        }


def _sum(cells: dict[str, int], prefixes: tuple[str, ...]) -> int | None:
    if not cells:
        return None
    return sum(n for name, n in cells.items() if name.startswith(prefixes))


def parse_nextpnr_json(doc: dict) -> tuple[dict[str, tuple[int, int]], float | None, float | None]:
    """``(utilisation, fmax_mhz, target_mhz)`` of nextpnr's ``--report`` JSON.

    With several clocks, the one with the least slack (the system clock in our builds).
    """
    util = {name: (int(v["used"]), int(v["available"])) for name, v in doc.get("utilization", {}).items()}
    fmax = target = None
    for clock in doc.get("fmax", {}).values():
        achieved, constraint = float(clock["achieved"]), float(clock["constraint"])
        if fmax is None or achieved - constraint < fmax - target:
            fmax, target = achieved, constraint
    return util, fmax, target


_UTIL = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", re.M)
# "Info: Max frequency for clock 'cd_sync.clk': 45.23 MHz (PASS at 12.00 MHz)"
_FMAX = re.compile(r"Max frequency for clock\s+'[^']*':\s+([\d.]+) MHz \((?:PASS|FAIL) at ([\d.]+) MHz\)")
_ERROR = re.compile(r"^ERROR: (.*)$", re.M)


def parse_nextpnr_log(text: str) -> tuple[dict[str, tuple[int, int]], float | None, float | None, str | None]:
    """``(utilisation, fmax_mhz, target_mhz, first error)`` of a nextpnr log.

    The log states the utilisation after packing (before placement can fail) and the
    Fmax once after placement and once after routing: the last of each is kept.
    """
    util: dict[str, tuple[int, int]] = {}
    for name, used, avail in _UTIL.findall(text):
        util[name] = (int(used), int(avail))
    fmax = target = None
    for achieved, constraint in _FMAX.findall(text):
        fmax, target = float(achieved), float(constraint)
    error = _ERROR.search(text)
    return util, fmax, target, error.group(1).strip() if error else None


_STAT_LINE_NEW = re.compile(r"^\s+(\d+)\s+(\$?[A-Za-z_][\w$]*)\s*$")  # "     6448   SB_LUT4" (yosys >= 0.52)
_STAT_LINE_OLD = re.compile(r"^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$")  # "     SB_LUT4   6448"
_NOT_CELLS = {"wires", "cells", "ports", "submodules", "memories", "processes"}


def parse_yosys_stat(text: str) -> dict[str, int]:
    """Cell counts of the top module in the last ``stat`` of a yosys log."""
    start = text.rfind("Printing statistics.")
    if start < 0:
        return {}
    section = text[start:]
    end = section.find("=== design hierarchy ===")
    section = section[: end if end >= 0 else None]
    cells: dict[str, int] = {}
    for line in section.splitlines():
        match = _STAT_LINE_NEW.match(line)
        if match:
            count, name = int(match.group(1)), match.group(2)
        else:
            match = _STAT_LINE_OLD.match(line)
            if not match:
                continue
            name, count = match.group(1), int(match.group(2))
        if name not in _NOT_CELLS and not name.startswith("$scopeinfo"):
            cells[name] = cells.get(name, 0) + count
    return cells


def read_report(build_dir: Path, name: str, family: str) -> Report:
    """The report of the build in ``build_dir`` (files ``name.rpt``, ``name.tim``,
    ``report.json``); missing files leave their figures unknown."""
    build_dir = Path(build_dir)
    report = Report(family)
    rpt = build_dir / f"{name}.rpt"
    if rpt.is_file():
        report.cells = parse_yosys_stat(rpt.read_text(errors="replace"))
    log = build_dir / f"{name}.tim"
    if log.is_file():
        util, fmax, target, error = parse_nextpnr_log(log.read_text(errors="replace"))
        report.utilisation, report.fmax_mhz, report.target_mhz, report.error = util, fmax, target, error
    js = build_dir / "report.json"
    if js.is_file():
        util, fmax, target = parse_nextpnr_json(json.loads(js.read_text()))
        report.utilisation = util or report.utilisation
        if fmax is not None:
            report.fmax_mhz, report.target_mhz = fmax, target
    return report
