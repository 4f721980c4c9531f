"""``snn hdl verilog|test|build|flash``: generate the core's Verilog, test it, build and flash it.

``NETWORK_OR_SPEC`` is a network file (``.toml`` with ``format = "snn-network/1"``: the
core is the default :class:`CoreSpec`, and the network must fit it), a CoreSpec file
(TOML or JSON with CoreSpec fields), or is replaced by ``--spec-json '{...}'``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tomllib
from pathlib import Path

from snn.core_spec import CoreSpec
from snn.errors import NetworkError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``hdl verilog`` and ``hdl test``."""
    hdl = subparsers.add_parser("hdl", help="generate and test the hardware core (Amaranth, cocotb + Icarus)")
    sub = hdl.add_subparsers(dest="hdl_command", metavar="HDL_COMMAND", required=True)
    verilog = sub.add_parser("verilog", help="write the core's Verilog for a network or a CoreSpec")
    _target(verilog)
    verilog.add_argument(
        "-o", "--output", type=Path, default=Path("build/core.v"), help="Verilog file to write"
    )
    verilog.add_argument("--name", default="snn_core", help="name of the top module (default snn_core)")
    verilog.set_defaults(func=run_verilog)
    test = sub.add_parser(
        "test",
        help="run the core's Verilog under cocotb + Icarus against the fixed-mode simulator",
    )
    _target(test)
    test.add_argument(
        "--steps", type=int, default=None, help="timesteps per network (default 100; 20 for a file)"
    )
    test.add_argument("--networks", type=int, default=4, help="random networks for a CoreSpec (default 4)")
    test.add_argument(
        "--build-dir", type=Path, default=None, help="keep the build here (default: a temp dir)"
    )
    test.set_defaults(func=run_test)
    _add_build(sub)


def _add_build(sub) -> None:
    """``hdl build`` (bitstream or Verilog + XDC, with a resource/timing report) and ``hdl flash``."""
    build = sub.add_parser("build", help="build a bitstream for a board (yosys/nextpnr) and report resources")
    _target(build)
    build.add_argument(
        "--board", required=True, help="icebreaker, ulx3s-85f, ulx3s-45f, ulx3s-25f, cmod-a7-35, ..."
    )
    build.add_argument("--baud", type=int, default=1_000_000, help="UART line rate (default 1000000)")
    build.add_argument(
        "--clock-mhz", type=float, default=None, help="core clock (default: the board's; a PLL)"
    )
    build.add_argument("--activity", type=float, default=0.1, help="spiking fraction for the latency figures")
    build.add_argument("--json", action="store_true", help="print the report as JSON")
    build.add_argument("-o", "--output", type=Path, default=None, help="build folder (default build/BOARD)")
    build.set_defaults(func=run_build)
    flash = sub.add_parser("flash", help="program a board with a bitstream (openFPGALoader or iceprog)")
    flash.add_argument("bitstream", metavar="BITSTREAM", type=Path)
    flash.add_argument("--board", required=True, help="the board the bitstream was built for")
    flash.add_argument("--dry-run", action="store_true", help="print the programmer's command only")
    flash.set_defaults(func=run_flash)


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", metavar="NETWORK_OR_SPEC", type=Path, nargs="?", help="network or CoreSpec file"
    )
    parser.add_argument("--spec-json", metavar="JSON", help="the CoreSpec as JSON (instead of a file)")
    parser.add_argument(
        "--dt", type=float, metavar="DT", help="a NIR file's timestep in its time unit (when it has none)"
    )


def resolve(args: argparse.Namespace):
    """``(spec, network_path or None)`` from the command line.

    ``--spec-json`` with a network file: the network on that core (it must fit it).
    """
    spec = None
    if args.spec_json is not None:
        try:
            fields = json.loads(args.spec_json)
        except json.JSONDecodeError as exc:
            raise NetworkError(f"--spec-json: not valid JSON: {exc}") from None
        spec = _spec(fields, "--spec-json")
        if args.target is None:
            return spec, None
    if args.target is None:
        raise NetworkError("give a network or CoreSpec file, or --spec-json")
    path = args.target
    if path.suffix.lower() == ".nir":  # a NIR graph: imported into a network file (snn.nir)
        path = _from_nir(path, getattr(args, "dt", None))
    text = path.read_text()
    if path.suffix == ".json":
        try:
            return _spec(json.loads(text), str(path)), None
        except json.JSONDecodeError as exc:
            raise NetworkError(f"{path}: not valid JSON: {exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise NetworkError(f"{path}: not valid TOML: {exc}") from None
    if "format" in doc or "populations" in doc:
        from snn import io
        from snn.quantize import fit_problems

        core = "the default core" if spec is None else "the --spec-json core"
        spec = spec or CoreSpec()
        problems = fit_problems(io.load(path), spec)
        if problems:
            raise NetworkError(f"{args.target}: the network does not fit {core}: {problems[0]}")
        return spec, path
    if spec is not None:
        raise NetworkError(f"{path}: give a CoreSpec file or --spec-json, not both")
    return _spec(doc, str(path)), None


def _from_nir(path: Path, dt: float | None) -> Path:
    import tempfile

    from snn import io
    from snn.nir import load_file

    network = load_file(path, dt)
    return io.save(network, Path(tempfile.mkdtemp(prefix="snn-nir-")) / (path.stem + ".toml"))


def _spec(fields, where: str) -> CoreSpec:
    if not isinstance(fields, dict):
        raise NetworkError(f"{where}: a CoreSpec must be a table of fields")
    try:
        spec = CoreSpec.from_dict(fields)
    except TypeError as exc:
        raise NetworkError(f"{where}: {exc}") from None
    from hdl.core import check_spec

    check_spec(spec)
    return spec


def run_verilog(args: argparse.Namespace) -> int:
    """``snn hdl verilog``: write the Verilog."""
    from hdl.verilog import generate

    spec, _ = resolve(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(generate(spec, args.name))
    print(
        f"wrote {args.output}: core {spec.max_inputs} inputs x {spec.max_neurons} neurons, stdp={spec.stdp}"
    )
    return 0


def run_test(args: argparse.Namespace) -> int:
    """``snn hdl test``: tiers 2 and 3 (cocotb + Icarus, conformance) for this configuration."""
    import shutil

    spec, network = resolve(args)
    if shutil.which("iverilog") is None:
        raise NetworkError("Icarus Verilog is not installed (Debian: sudo apt-get install iverilog)")
    from hdl.testing.cocotb_run import run_cocotb
    from hdl.testing.timing_check import predicted

    if network is not None:
        cases = [{"network": str(network.resolve()), "steps": args.steps or 20, "spec": spec.to_dict()}]
    else:
        size = {"max_inputs": min(spec.max_inputs, 16), "max_neurons": min(spec.max_neurons, 16)}
        from hdl.testing.conformance import load_case, plastic_blocks_complete

        cases, seed = [], 0
        while len(cases) < args.networks:
            case = {"seed": seed, "stdp": spec.stdp and seed % 2 == 0, "steps": args.steps or 100, **size}
            case["spec"] = spec.to_dict()
            seed += 1
            # networks whose plastic synapses fill their rows x columns: the core's STDP enables
            if plastic_blocks_complete(load_case(case)[1]):
                cases.append(case)
    with tempfile.TemporaryDirectory() as tmp:
        build = args.build_dir or Path(tmp)
        try:
            results = run_cocotb(spec, cases, build)
        except AssertionError as exc:
            print(f"snn hdl test: FAILED: {exc}", file=sys.stderr)
            return 1
    differ = 0
    for result in results:
        cycles = result["cycles"]
        formula = [predicted(spec, result["case"], spikes, inputs) for spikes, inputs in result["events"]]
        label = result["case"].get("network") or f"random network {result['case']['seed']}"
        print(
            f"ok: {label}: {len(cycles)} steps identical to the simulator, {result['spikes']} spikes; "
            f"{sum(cycles)} cycles, {'matches' if formula == cycles else 'DIFFERS from'} the formula "
            f"({sum(formula)})"
        )
        wrong = [t for t, (a, b) in enumerate(zip(cycles, formula, strict=True)) if a != b]
        if wrong:
            differ += 1
            t = wrong[0]
            print(
                f"snn hdl test: FAILED: {label}: the cycle formula (hdl/timing.py) differs from the "
                f"Verilog at {len(wrong)} steps, first at step {t}: {cycles[t]} measured, {formula[t]} predicted",
                file=sys.stderr,
            )
    return 1 if differ else 0


def run_build(args: argparse.Namespace) -> int:
    """``snn hdl build``: see hdl/fpga/command.py."""
    from hdl.fpga.command import run_build as build

    spec, _ = resolve(args)
    return build(args, spec)


def run_flash(args: argparse.Namespace) -> int:
    """``snn hdl flash``: see hdl/fpga/command.py."""
    from hdl.fpga.command import run_flash as flash

    return flash(args)
