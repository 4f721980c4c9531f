"""``snn.sweep``: run one network description over a grid of parameters and trial seeds, on Dask.

The sweep plans one row per (configuration, trial seed), groups the rows into tasks
(:class:`~snn.sweep.runner.Task`: one run, or on the torch backend all seeds of a
configuration as one batch), and hands the tasks to a Dask cluster: a ``LocalCluster``
on this machine's cores by default, any cluster by its scheduler address or ``client``.
The network travels once per worker (``Client.scatter(..., broadcast=True)``); the tasks
carry only their overrides. Rows are written as they arrive; a dead worker's tasks are
run again elsewhere by Dask; an interrupted sweep resumes from its output file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import NetworkError
from ..network import Network
from ..sim.results import Results
from .params import MODES, apply, check_names, grid
from .runner import Settings, Task, check_metrics, row_head, run_task
from .table import TableWriter, check_output, read_done

SYNCHRONOUS = "synchronous"


@dataclasses.dataclass
class SweepResult:
    """The sweep's table: ``rows`` (dicts, in run order) with ``columns``; ``params`` are the swept names."""

    rows: list[dict]
    columns: list[str]
    params: list[str]
    path: Path | None = None

    def column(self, name: str) -> np.ndarray:
        """One column as an array (numbers as float64, anything else as objects)."""
        if name not in self.columns:
            raise NetworkError(f"no column {name!r} (columns: {', '.join(self.columns)})")
        values = [r.get(name) for r in self.rows]
        try:
            return np.array([np.nan if v in ("", None) else v for v in values], np.float64)
        except (TypeError, ValueError):
            return np.array(values, object)

    @property
    def errors(self) -> list[dict]:
        """The rows whose run failed."""
        return [r for r in self.rows if r.get("error")]

    def plot(self, path: str | Path, metric: str | None = None) -> Path:
        """Draw a 1-D (lines with the spread over seeds) or 2-D (heat map) sweep into ``path``."""
        from .plot import plot_sweep

        return plot_sweep(self, Path(path), metric)


def sweep(
    network: Network | str | Path,
    params: Mapping[str, Iterable] | None = None,
    *,
    runs: Sequence[Mapping[str, object]] | None = None,
    seeds: Iterable[int] | None = None,
    metrics: Sequence[str] = ("spikes", "rates"),
    function: Callable[[Results], object] | None = None,
    mode: str = "float",
    backend: str = "numba",
    duration: float | None = None,
    out: str | Path | None = None,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    ports: Sequence[str] | None = None,
    progress: bool = True,
    plot: str | Path | None = None,
    **options,
) -> SweepResult:
    """Run ``network`` for every combination of ``params`` (a grid) or every entry of ``runs``, and every seed.

    ``params``: ``{"exc.tau_m": [10, 20], "ee.weight": [0.5, 1.0], "mode": [...]}``
    (see :mod:`snn.sweep.params` for the names); ``runs``: a list of such overrides
    instead of a grid. ``seeds``: trial seeds; row ``seed = s`` runs
    ``snn.trial(network, s)`` (the network's structure, Poisson inputs and initial state
    from ``s``); without ``seeds`` each configuration runs the network as described, once.
    ``metrics``: ``spikes`` and ``rates`` (``NAME.spikes``, ``NAME.rate_hz`` for every LIF
    group), ``cv`` (``NAME.isi_cv``), ``weights`` (``PROJ.w_mean``, ``w_std``, ``w_min``,
    ``w_max``: final weights); ``function(results)`` adds columns (a dict, or one number
    named after the function). ``mode``/``backend``: defaults of every run (``backend=
    "torch"`` runs a configuration's seeds as one batch); other keyword arguments go to
    the simulator (``dtype``, ``device``, ``threads``).

    Where it runs: ``client`` (a ``distributed.Client``), else ``scheduler``
    (``"tcp://HOST:8786"``, or ``"synchronous"``: in this process, one run after another),
    else a ``LocalCluster`` of ``workers`` processes (default: this machine's cores).
    ``ports``: run on boards instead (``["sim", "sim"]`` or serial ports; fixed mode), one
    run per board at a time. ``out``: a ``.csv`` (or ``.parquet``) written as rows arrive;
    if it holds finished rows of the same sweep, they are kept and not run again.
    ``plot``: a PNG of a 1-D or 2-D sweep. Returns the table (:class:`SweepResult`).
    """
    if isinstance(network, (str, Path)):
        from .. import io

        network = io.load(network)
    if duration is not None:
        network = dataclasses.replace(network, duration=duration)
    if mode not in MODES:
        raise NetworkError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    settings = Settings(mode, backend, check_metrics(metrics), function, dict(options))
    configs = _configurations(network, params, runs)
    names = list(dict.fromkeys(k for c in configs for k in c))
    seed_list = _seeds(seeds)
    if ports is not None:
        ports = _ports(ports, mode, configs)
    path = Path(out) if out is not None else None
    check_output(path)
    for c in configs:  # a bad value fails here, once, not in every row
        apply(network, c)

    planned: dict[int, dict] = {}
    for ci, c in enumerate(configs):
        for si, s in enumerate(seed_list):
            planned[ci * len(seed_list) + si] = {
                "run": ci * len(seed_list) + si,
                "seed": "" if s is None else s,
                **c,
            }
    key_columns = ["run", "seed", *names]
    done = read_done(path, planned, key_columns)
    finished = {int(r["run"]) for r in done}
    tasks = _tasks(configs, seed_list, finished, settings, ports is not None)
    writer = TableWriter(path, key_columns, done)
    try:
        _execute(network, tasks, settings, writer, client, scheduler, workers, ports, progress)
    finally:
        rows = writer.close()
    result = SweepResult(rows, writer.columns or key_columns, names, path)
    if plot is not None:
        result.plot(plot)
    return result


def _configurations(network: Network, params, runs) -> list[dict]:
    if params is not None and runs is not None:
        raise NetworkError("give params= (a grid) or runs= (a list of overrides), not both")
    if runs is not None:
        configs = [dict(r) for r in runs]
        if not configs:
            raise NetworkError("runs= is empty; give at least one dict of overrides")
    else:
        configs = grid(dict(params or {}))
    for c in configs:
        if "seed" in c:
            raise NetworkError(
                "the trial seed has its own axis: pass seeds= (--seeds), not a 'seed' parameter"
            )
        check_names(network, c)
    return configs


def _seeds(seeds) -> list[int | None]:
    if seeds is None:
        return [None]
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in out):
        raise NetworkError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    if len(set(out)) != len(out):
        raise NetworkError("seeds repeat a value; each trial seed once")
    return [int(s) for s in out]


def _ports(ports: Sequence[str], mode: str, configs: list[dict]) -> list[str]:
    ports = [str(p).strip() for p in ports]
    if not ports or not all(ports):
        raise NetworkError(
            "ports: give at least one port (e.g. --ports sim,sim or /dev/ttyUSB0,/dev/ttyUSB1)"
        )
    if any(c.get("mode", mode) != "fixed" for c in configs):
        raise NetworkError("boards run the core's fixed mode: sweep with mode='fixed' (--mode fixed)")
    if any("backend" in c for c in configs):
        raise NetworkError("a sweep on boards (ports) cannot sweep 'backend'")
    return ports


def _tasks(configs, seed_list, finished: set[int], settings: Settings, boards: bool) -> list[Task]:
    tasks = []
    for ci, c in enumerate(configs):
        runs = [ci * len(seed_list) + si for si in range(len(seed_list))]
        todo = [(r, s) for r, s in zip(runs, seed_list) if r not in finished]
        if not todo:
            continue
        if not boards and c.get("backend", settings.backend) == "torch":  # the seeds as one batch
            tasks.append(Task(c, [s for _, s in todo], [r for r, _ in todo]))
        else:
            tasks += [Task(c, [s], [r]) for r, s in todo]
    return tasks


def _execute(network, tasks, settings, writer, client, scheduler, workers, ports, progress) -> None:
    total = sum(len(t.runs) for t in tasks)
    if not tasks:  # every row is already in the output file
        return
    with _Progress(total, progress) as bar:
        if scheduler == SYNCHRONOUS and client is None:
            for i, task in enumerate(tasks):
                if ports:
                    task.port = ports[i % len(ports)]
                for row in run_task(network, task, settings):
                    writer.add(row)
                bar.advance(len(task.runs))
            return
        with _dask_client(client, scheduler, workers, ports) as c:
            _run_on_dask(c, network, tasks, settings, writer, ports, bar)


def _run_on_dask(client, network, tasks, settings, writer, ports, bar) -> None:
    from distributed import as_completed

    net_f = client.scatter(network, broadcast=True, hash=False)  # once per worker
    settings_f = client.scatter(settings, broadcast=True, hash=False)
    pending = list(reversed(tasks))
    free = list(reversed(ports)) if ports else None
    owner: dict = {}

    def submit():
        task = pending.pop()
        if free is not None:
            task.port = free.pop()  # one run per board at a time: the port is ours until it returns
        fut = client.submit(run_task, net_f, task, settings_f, pure=False, retries=2)
        owner[fut.key] = (fut, task)
        return fut

    first = [submit() for _ in range(len(pending) if free is None else min(len(free), len(pending)))]
    queue = as_completed(first)
    try:
        for fut in queue:
            _, task = owner.pop(fut.key)
            try:
                rows = fut.result()
            except Exception as exc:  # e.g. KilledWorker: the task killed worker after worker
                message = " ".join(f"{type(exc).__name__}: {exc}".split())
                rows = [dict(row_head(task, i), error=message) for i in range(len(task.runs))]
            for row in rows:
                writer.add(row)
            bar.advance(len(task.runs))
            if free is not None:
                free.append(task.port)
            if pending and (free is None or free):
                queue.add(submit())
    except BaseException:
        client.cancel([f for f, _ in owner.values()])
        raise


class _dask_client:
    """The given client, a client of the scheduler at an address, or a LocalCluster of our own."""

    def __init__(self, client, scheduler, workers, ports) -> None:
        self.given, self.scheduler, self.workers, self.ports = client, scheduler, workers, ports
        self.cluster = self.client = None

    def __enter__(self):
        if self.given is not None:
            return self.given
        try:
            from distributed import Client, LocalCluster
        except ModuleNotFoundError:
            raise NetworkError(
                "sweeps run on Dask: pip install 'dask[distributed]' (the 'sweep' extra), "
                "or pass scheduler='synchronous' to run in this process"
            ) from None
        if self.scheduler not in (None, "local"):
            try:
                self.client = Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise NetworkError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
            return self.client
        if self.workers is not None and (isinstance(self.workers, bool) or self.workers < 1):
            raise NetworkError(f"workers must be an integer >= 1, got {self.workers!r}")
        n = self.workers or (len(self.ports) if self.ports else os.cpu_count() or 1)
        self.cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        )
        self.client = Client(self.cluster)
        return self.client

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class _Progress:
    """A rich progress bar with the runs done, elapsed time and ETA (nothing when disabled)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.bar = total, enabled and total > 0, None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                "sweep", BarColumn(), MofNCompleteColumn(), "runs", TimeElapsedColumn(), "ETA",
                TimeRemainingColumn(), console=Console(stderr=True),
            )  # fmt: skip
            self.bar.start()
            self.task = self.bar.add_task("sweep", total=self.total)
        return self

    def advance(self, n: int) -> None:
        """``n`` more runs finished."""
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
