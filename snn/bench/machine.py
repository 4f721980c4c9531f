"""One line naming the machine a benchmark ran on: CPU model, cores, caches, date, versions."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def caches() -> str:
    """Cache sizes of CPU 0, e.g. ``L1d 32K, L2 1024K, L3 32768K`` (empty where unknown)."""
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    out = []
    for index in sorted(base.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        out.append(f"L{level}{'d' if kind == 'Data' else ''} {size}")
    return ", ".join(out)


def usable_cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def peer_versions(python: Path | None) -> str:
    """Versions of the peers in their own venv (empty when it is not there)."""
    if python is None:
        return ""
    code = (
        "import importlib.metadata as m\n"
        "for p in ('brian2', 'nest-simulator', 'numpy'):\n"
        "    try: print(p, m.version(p))\n"
        "    except Exception: pass\n"
    )
    try:
        text = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return ", ".join(f"{name} {version}" for name, version in (line.split() for line in text.splitlines()))


def machine_line(threads: list[int], peers_python: Path | None = None) -> str:
    """``CPU, cores (threads used), caches; date and load average now; versions`` in one line."""
    import numba
    import numpy

    from .. import __version__

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ""
    if hasattr(os, "getloadavg"):
        # the CLI calls this after the runs: the 5- and 15-minute averages cover them
        one, five, fifteen = os.getloadavg()
        load = (
            f", load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min) when the table was made"
        )
    ours = f"snn {__version__}, Python {platform.python_version()}, numpy {numpy.__version__}, numba {numba.__version__}"
    peers = peer_versions(peers_python)
    return (
        f"{cpu_model()}, {usable_cores()} cores (threads used: {', '.join(map(str, threads))}), "
        f"{caches()}; {now}{load}; {ours}" + (f"; peers: {peers}" if peers else "")
    )
