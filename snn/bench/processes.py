"""Run a benchmark command in a fresh process and collect its JSON line and peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass


@dataclass
class Measurement:
    """What one benchmark process reported, plus its peak resident memory."""

    data: dict
    peak_mb: float


class BenchError(RuntimeError):
    """A benchmark process failed; the message carries the tail of its output."""


def run_json(cmd: list[str], timeout: float) -> Measurement:
    """Run ``cmd``; parse the last stdout line that is a JSON object.

    Each configuration runs in its own process so that its peak memory belongs to it:
    ``os.wait4`` reports the child's ``ru_maxrss``, which on Linux also covers the
    descendants it waited for (Brian2's standalone binary). Output goes to temporary
    files so that no pipe fills up while we wait.
    """
    name = " ".join(os.path.basename(c) for c in cmd[:3])
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, rusage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        why = f"killed after {timeout:.0f} s" if proc.returncode < 0 else f"exited {proc.returncode}"
        raise BenchError(f"{name}: {why}: {' | '.join(tail)}")
    for line in reversed(stdout.strip().splitlines()):
        if line.strip().startswith("{"):
            return Measurement(json.loads(line), rusage.ru_maxrss / 1024.0)
    raise BenchError(f"{name}: printed no JSON line")


def python_module(module: str, *args: object) -> list[str]:
    """Command line that runs ``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *map(str, args)]
