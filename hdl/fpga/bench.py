"""Hardware benchmark: the default core built for iCEBreaker and ULX3S-45F/85F, beside NeuroCoreX.

``snn bench hardware`` or ``python -m hdl.fpga.bench [--activity A] [--out build/bench-hardware]`` runs the
full builds (a few minutes: yosys + nextpnr through YoWASP) and prints one table.
A board whose memories (SPRAM on the UP5K, block RAM elsewhere) cannot hold the default
core's weights is built with the largest square core that can (``hdl.fpga.capacity``)
and the table says so.
Not a test: the numbers go to the README.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from snn.core_spec import CoreSpec
from snn.errors import NetworkError

# NeuroCoreX on the Cmod A7-35T (shared/reference/neurocorex.md): 96 slots of 10 us per step
NEUROCOREX = {
    "core (inputs x neurons)": "96 x 96 (90 usable)",
    "device": "xc7a35t (Cmod A7-35T)",
    "LUTs / logic cells": "6,981 LUT",
    "flip-flops": "11,175",
    "block RAM": "30.5 BRAM36",
    "SPRAM": "-",
    "DSP": "8",
    "clock": "100 MHz (neurons at 100 kHz)",
    "Fmax": "100 MHz met (fast domain)",
    "cycles per timestep (1 / 10 / 30 % activity)": "96,000 at any activity (96 x 10 us)",
    "synaptic ops per cycle, STDP updates included (1 / 10 / 30 %)": "n/a",
    "timestep": "960 us",
    "synaptic ops/s": "n/a (~94k neuron updates/s)",
    "real-time factor dt=1 ms (1 / 10 / 30 %)": "1.04 at any activity",
    "real-time factor dt=0.1 ms (1 / 10 / 30 %)": "0.10 at any activity",
    "build": "Vivado 2023.1",
}
BOARDS = ("icebreaker", "ulx3s-45f", "ulx3s-85f")


def column(board_name: str, activity: float, out: Path) -> dict[str, str]:
    """Build the default core (or the largest that fits the block RAM) and tabulate it."""
    from hdl.fpga import boards
    from hdl.fpga.capacity import largest_fitting_square, weight_problem
    from hdl.fpga.command import board_lanes
    from hdl.fpga.figures import ACTIVITIES, Figures
    from hdl.fpga.flow import build

    board = boards.get(board_name)
    spec, note = CoreSpec(lanes=board.lanes), ""
    problem = weight_problem(spec, board)
    if problem:
        n = largest_fitting_square(spec, board)
        note = f" (default {spec.max_inputs} x {spec.max_neurons}: {problem.split(':')[0]})"
        spec = CoreSpec(max_inputs=n, max_neurons=n)
        spec = CoreSpec(max_inputs=n, max_neurons=n, lanes=board_lanes(spec, board))
    result = build(spec, board, out / board.name)
    r = result.report
    fmax = r.fmax_mhz * 1e6 if r.fmax_mhz else None
    f = Figures(spec, result.params.clock_hz, fmax, activity)

    def used(col):
        u, a = r.used(col), r.available(col)
        return "-" if u is None else f"{u:,} / {a:,}"

    fits = (
        "fits"
        if result.bitstream
        else "DOES NOT FIT: " + "; ".join(f"{k} {v:.0%}" for k, v in sorted(r.overflow().items()))
    )
    clock = result.params.clock_hz
    each = [f.at(a) for a in ACTIVITIES]

    def per_activity(fmt):
        return " / ".join(fmt(g) for g in each)

    return {
        "core (inputs x neurons)": f"{spec.max_inputs} x {spec.max_neurons}, STDP, lanes={spec.lanes}{note}",
        "device": board.device,
        "LUTs / logic cells": f"{r.luts:,} LUT4; {used('logic')} cells" if r.luts else used("logic"),
        "flip-flops": f"{r.ffs:,}" if r.ffs else "-",
        "block RAM": used("bram"),
        "SPRAM": used("spram"),
        "DSP": used("dsp"),
        "clock": f"{clock / 1e6:g} MHz (board oscillator)",
        "Fmax": f"{r.fmax_mhz:.1f} MHz" if r.fmax_mhz else "-",
        "cycles per timestep (1 / 10 / 30 % activity)": per_activity(lambda g: f"{g.step_cycles:,}")
        + " (worst case)",
        "synaptic ops per cycle, STDP updates included (1 / 10 / 30 %)": per_activity(
            lambda g: f"{g.synops_per_cycle:.2f}"
        ),
        "timestep": f"{f.step_seconds(clock) * 1e6:,.0f} us at {activity:.0%} activity"
        + (f" ({f.step_seconds(fmax) * 1e6:,.0f} at Fmax)" if fmax else ""),
        "synaptic ops/s": f"{f.synops_per_s(clock) / 1e6:.1f} M at {activity:.0%} activity"
        + (f" ({f.synops_per_s(fmax) / 1e6:.1f} M at Fmax)" if fmax else ""),
        "real-time factor dt=1 ms (1 / 10 / 30 %)": per_activity(
            lambda g: f"{g.realtime_factor(1e-3, clock):.2f}"
        ),
        "real-time factor dt=0.1 ms (1 / 10 / 30 %)": per_activity(
            lambda g: f"{g.realtime_factor(1e-4, clock):.3f}"
        ),
        "build": f"yosys + nextpnr (YoWASP), {result.seconds:.0f} s; {fits}",
    }


def table(columns: dict[str, dict[str, str]]) -> str:
    """A Markdown table, one column per target."""
    rows = list(NEUROCOREX)
    head = ["", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        lines.append("| " + " | ".join([row, *(c.get(row, "-") for c in columns.values())]) + " |")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the hardware benchmark (shared by ``snn bench hardware`` and ``python -m``)."""
    parser.add_argument("--activity", type=float, default=0.1, help="spiking fraction per step (default 0.1)")
    parser.add_argument("--out", type=Path, default=Path("build/bench-hardware"), help="build folders")
    parser.add_argument("--boards", nargs="+", default=list(BOARDS), help="boards to build")


def add_bench_parser(kinds: argparse._SubParsersAction) -> None:
    """Register ``snn bench hardware`` (the ``snn.bench`` entry point of this package)."""
    hardware = kinds.add_parser(
        "hardware", help="full default-core builds beside NeuroCoreX's figures (minutes; yowasp toolchain)"
    )
    add_arguments(hardware)
    hardware.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the builds and print the table."""
    columns = {"NeuroCoreX (Cmod A7-35T)": NEUROCOREX}
    for name in args.boards:
        try:
            columns[name] = column(name, args.activity, args.out)
        except NetworkError as exc:
            columns[name] = {"build": f"error: {exc}"}
        print(f"built {name}", flush=True)
    print(table(columns))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m hdl.fpga.bench``."""
    parser = argparse.ArgumentParser(prog="snn bench hardware", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
