# Shared by scripts/demo.sh and scripts/test.sh: create .venv (Python >= 3.11) and
# install a requirements file plus the project itself, editable. Idempotent and quick
# when nothing changed (pip skips what is already installed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: $PYTHON is missing or older than 3.11; install python3.11 (apt-get install python3 python3-venv)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        # Debian ships venv's ensurepip in a separate package
        rm -rf .venv
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "installing python3-venv (apt-get install python3-venv)"
            apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$PYTHON" -m venv .venv
        else
            echo "error: could not create .venv; install python3-venv (sudo apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
fi
install_requirements() {
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$1"
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null \
        || .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
}
