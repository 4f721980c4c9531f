"""The floors of the house: snn imports neither hdl nor firmware_host, firmware_host does not
import hdl, and what they add to snn (subcommands, ports, runners) arrives through entry
points, so that `snn hdl test` and `snn board run --port sim-rtl` work from a wheel
installed outside the checkout (docs/architecture.md)."""

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imported_packages(package: str) -> dict[str, set[str]]:
    """For each module of ``package``: the top-level packages it imports (absolute imports)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tops = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                tops |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = tops
    return found


@pytest.mark.parametrize(
    ("package", "above"), [("snn", {"hdl", "firmware_host"}), ("firmware_host", {"hdl"})]
)
def test_no_module_imports_a_floor_above_its_own(package, above):
    upward = {module: tops & above for module, tops in _imported_packages(package).items() if tops & above}
    assert not upward, upward


def test_the_upper_floors_register_their_commands():
    from snn.cli import build_parser

    help_text = build_parser().format_help()
    for command in ("run", "bench", "sweep", "nir", "hdl", "board"):
        assert f"    {command} " in help_text


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """A fresh venv outside the checkout with this project's wheel in it; the dependencies
    come from the test environment's site-packages, added as paths, not site dirs, so the
    editable finder of the checkout that they hold is not installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp), str(ROOT)]
    done = subprocess.run([*build, "--no-build-isolation"], capture_output=True, text=True)
    if done.returncode:  # a setuptools without bdist_wheel: build in isolation
        subprocess.run(build, check=True, capture_output=True, text=True)
    (wheel,) = tmp.glob("snn_codesign-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    deps = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (site / "test_deps.pth").write_text("\n".join(deps) + "\n")
    return python, tmp


def _snn(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([python, "-m", "snn", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_wheel_is_used_outside_the_checkout(wheel_venv):
    python, tmp = wheel_venv
    where = subprocess.run(
        [python, "-c", "import snn, hdl, firmware_host, hdl.testing; print(hdl.testing.__file__)"],
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(tmp / "venv") in where and str(ROOT) not in where


@pytest.mark.skipif(
    shutil.which("iverilog") is None, reason="iverilog missing: `bash scripts/test.sh` installs it"
)
def test_hdl_test_runs_from_the_wheel(wheel_venv):
    python, tmp = wheel_venv
    spec = '{"max_inputs": 4, "max_neurons": 4}'
    done = _snn(python, tmp, "hdl", "test", "--spec-json", spec, "--networks", "1", "--steps", "8")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identical to the simulator" in done.stdout and "matches the formula" in done.stdout


def test_board_run_on_the_gateware_from_the_wheel(wheel_venv):
    python, tmp = wheel_venv
    network = tmp / "board_demo.toml"
    shutil.copy(ROOT / "examples" / "networks" / "board_demo.toml", network)
    done = _snn(
        python, tmp, "board", "run", str(network), "--port", "sim-rtl", "--baud", "3000000", "--steps", "5"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "spikes" in done.stdout
