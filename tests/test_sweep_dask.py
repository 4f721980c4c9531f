"""snn sweep on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on 127.0.0.1.

The same sweep must give byte-identical tables in this process (synchronous) and on the
cluster (through the CLI's --scheduler, and through client=); two simulated boards
(--ports sim,sim) must give the numba fixed-mode rows, one board serves one run at a time; killing one worker in the middle of
a sweep must lose no row (Dask runs its tasks again on the other worker).
"""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_sweep import SYNC, tiny

import snn
from snn.cli import main

distributed = pytest.importorskip("distributed")

DASK = Path(sys.executable).parent / "dask"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster():
    """A scheduler and two single-threaded workers without nannies (so a kill kills the worker)."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [
                str(DASK),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
                "--no-dashboard",
            ],
            **quiet,
        )
    ]
    try:
        for name in ("w0", "w1"):
            procs.append(
                subprocess.Popen(
                    [
                        str(DASK),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--name",
                        name,
                    ],
                    **quiet,
                )
            )
        client = distributed.Client(address, timeout="60s")
        client.wait_for_workers(2, timeout=120)
        yield address, client, procs
        client.close()
    finally:
        for p in reversed(procs):
            p.kill()
            p.wait(timeout=30)


def _csv(path: Path) -> str:
    return path.read_text()


def test_cluster_gives_the_same_table_and_survives_a_dead_worker(cluster, tmp_path):
    address, client, procs = cluster
    net_file = tmp_path / "tiny.toml"
    snn.io.save(tiny(), net_file)
    argv = ["sweep", str(net_file), "--param", "a.tau_m=10,20", "--param", "ff.weight=2,4", "--seeds", "0:2"]
    local, remote = tmp_path / "local.csv", tmp_path / "remote.csv"
    assert main([*argv, "-o", str(local), "--scheduler", "synchronous", "--quiet"]) == 0
    assert main([*argv, "-o", str(remote), "--scheduler", address, "--quiet"]) == 0
    assert _csv(remote) == _csv(local)
    assert len({r["a.spikes"] for r in csv.DictReader(local.open())}) > 2

    # two simulated boards on the cluster's workers: the numba fixed-mode rows
    params = {"a.tau_m": [10.0, 20.0]}
    want = snn.sweep(tiny(), params, seeds=[0, 1], mode="fixed", **SYNC).rows
    boards = snn.sweep(
        tiny(), params, seeds=[0, 1], mode="fixed", ports=["sim", "sim"], client=client, progress=False
    )
    assert boards.rows == want

    # one board, two workers: the runs take turns (each run's window never overlaps another's)
    def window(res):
        t0 = time.time()
        time.sleep(0.2)
        return {"t0": t0, "t1": time.time()}

    one = snn.sweep(
        tiny(),
        params,
        seeds=[0, 1],
        mode="fixed",
        ports=["sim"],
        function=window,
        client=client,
        progress=False,
    )
    spans = sorted((r["t0"], r["t1"]) for r in one.rows)
    assert len(spans) == 4 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans
    assert [{k: r[k] for k in want[0]} for r in one.rows] == want

    # kill one worker once the first rows are in: every row still arrives, none failed
    def slow(res):  # pickled by value (a local function): ~0.25 s per run
        time.sleep(0.25)
        return {}

    grid = {"a.tau_m": [8.0, 14.0, 20.0]}
    seeds = [0, 1, 2, 3]
    out = tmp_path / "killed.csv"
    done: dict = {}

    def run():
        try:
            done["result"] = snn.sweep(
                tiny(), grid, seeds=seeds, out=out, function=slow, client=client, progress=False
            )
        except BaseException as exc:  # reported by the assertion below
            done["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 3):
        time.sleep(0.05)
    rows_before_kill = len(out.read_text().splitlines()) - 1
    procs[1].kill()
    thread.join(timeout=300)
    assert not thread.is_alive() and "error" not in done, done.get("error")
    assert 2 <= rows_before_kill < 12, "the worker must die in the middle of the sweep"
    result = done["result"]
    assert [r["run"] for r in result.rows] == list(range(12)) and not result.errors
    assert result.rows == snn.sweep(tiny(), grid, seeds=seeds, **SYNC).rows
