#!/usr/bin/env bash
# Everything the tests need, then the whole suite: Python packages pinned in
# requirements/ci.txt (torch 2.13.0 CPU included) into .venv, Icarus Verilog through
# apt-get when missing (as root), ruff, pytest. Extra arguments go to pytest.
source "$(dirname "$0")/_venv.sh"
install_requirements requirements/ci.txt
if ! command -v iverilog >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing Icarus Verilog (apt-get install iverilog)"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null
    else
        echo "error: iverilog is missing; install it (Debian: sudo apt-get install iverilog) and run again" >&2
        exit 1
    fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# -n 2: the machine has two cores; numba's cache makes later workers start warm. worksteal:
# an idle worker takes queued tests from a busy one (tests/conftest.py puts the longest first).
exec .venv/bin/python -m pytest -q -n 2 --dist worksteal --durations=15 "$@"
