"""Build the core's Verilog, compile it with Icarus and run the cocotb conformance module."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from hdl.verilog import generate
from snn.core_spec import CoreSpec

HERE = Path(__file__).resolve().parent


def have_icarus() -> bool:
    """Whether Icarus Verilog is installed."""
    return shutil.which("iverilog") is not None and shutil.which("vvp") is not None


def run_cocotb(spec: CoreSpec, cases: list[dict], build_dir: Path) -> list[dict]:
    """Run ``cases`` (see ``conformance.load_case``) on the Verilog core; return per-case results."""
    from cocotb_tools.runner import get_runner

    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / "snn_core.v"
    source.write_text(generate(spec))
    runner = get_runner("icarus")
    runner.build(
        sources=[source],
        hdl_toplevel="snn_core",
        build_dir=build_dir,
        timescale=("1ns", "1ps"),
        # -g2005: under -g2012 Icarus runs the registers' declaration initialisers without an
        # event, so an `always @*` block that reads only registers that keep their initial
        # value (a rule's flags that stay 0) stays X; an X write enable then disables the
        # single-port weight memory's read in Verilog, where the hardware reads
        build_args=["-g2005"],
    )
    results_file = build_dir / "results.json"
    results_file.unlink(missing_ok=True)
    # the runner passes sys.path to the simulator's Python: put the test modules on it
    extra = [str(HERE), str(HERE.parent), str(HERE.parent.parent)]
    saved = list(sys.path)
    sys.path[:0] = extra
    try:
        xml = _test(runner, build_dir, spec, cases, results_file)
    finally:
        sys.path[:] = saved
    from cocotb_tools.runner import get_results

    n_tests, n_fail = get_results(xml)
    if n_fail or not results_file.exists():
        raise AssertionError(f"cocotb: {n_fail} of {n_tests} tests failed; see {build_dir}")
    return json.loads(results_file.read_text())


def _test(runner, build_dir, spec, cases, results_file):
    return runner.test(
        test_module="cocotb_core",
        hdl_toplevel="snn_core",
        build_dir=build_dir,
        test_dir=build_dir,
        extra_env={
            "SNN_HDL_SPEC": json.dumps(spec.to_dict()),
            "SNN_HDL_CASES": json.dumps(cases),
            "SNN_HDL_RESULTS": str(results_file),
        },
    )
