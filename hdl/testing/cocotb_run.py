"""Build the core's Verilog, compile it with Icarus and run the cocotb conformance module."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from hdl.verilog import generate
from snn.core_spec import CoreSpec

# the folder that holds the hdl package (site-packages, or the checkout when editable)
PACKAGES = Path(__file__).resolve().parents[2]


def have_icarus() -> bool:
    """Whether Icarus Verilog is installed."""
    return shutil.which("iverilog") is not None and shutil.which("vvp") is not None


def run_cocotb(spec: CoreSpec, cases: list[dict], build_dir: Path) -> list[dict]:
    """Run ``cases`` (see ``conformance.load_case``) on the Verilog core; return per-case results."""

    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / "snn_core.v"
    source.write_text(generate(spec))
    results_file = build_dir / "results.json"
    results_file.unlink(missing_ok=True)
    env = {
        "SNN_HDL_SPEC": json.dumps(spec.to_dict()),
        "SNN_HDL_CASES": json.dumps(cases),
        "SNN_HDL_RESULTS": str(results_file),
    }
    n_tests, n_fail = run_icarus([source], "snn_core", "hdl.testing.cocotb_core", build_dir, [PACKAGES], env)
    if n_fail or not results_file.exists():
        raise AssertionError(f"cocotb: {n_fail} of {n_tests} tests failed; see {build_dir}")
    return json.loads(results_file.read_text())


def run_icarus(
    sources: list[Path],
    toplevel: str,
    test_module: str,
    build_dir: Path,
    module_dirs: list[Path],
    extra_env: dict[str, str],
    defines: dict | None = None,
) -> tuple[int, int]:
    """Compile ``sources`` with Icarus and run the cocotb ``test_module`` (found in
    ``module_dirs``) on ``toplevel``; returns ``(tests, failures)``."""
    from cocotb_tools.runner import get_results, get_runner

    runner = get_runner("icarus")
    runner.build(
        sources=sources,
        hdl_toplevel=toplevel,
        build_dir=build_dir,
        timescale=("1ns", "1ps"),  # Amaranth's Verilog has none
        defines=defines or {},
        # -g2005: under -g2012 Icarus runs the registers' declaration initialisers without an
        # event, so an `always @*` block that reads only registers that keep their initial
        # value (an FSM state, a rule's flags that stay 0) stays X; an X write enable, for
        # one, disables the single-port weight memory's read in Verilog, where hardware reads
        build_args=["-g2005"],
    )
    saved = list(sys.path)
    sys.path[:0] = [str(d) for d in module_dirs]  # the runner passes sys.path to the simulator
    try:
        xml = runner.test(
            test_module=test_module,
            hdl_toplevel=toplevel,
            build_dir=build_dir,
            test_dir=build_dir,
            extra_env=extra_env,
        )
    finally:
        sys.path[:] = saved
    return get_results(xml)
