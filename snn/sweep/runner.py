"""What a worker does: run one configuration of a sweep (one or more trial seeds) and reduce it to rows.

A *task* is one configuration (the overrides of one grid point) and the trial seeds to run
with it: one seed on the numba backend or a board, all of a configuration's seeds as one
batch on the torch backend. Every run is reduced by the chosen metrics into one row; an
exception becomes the ``error`` of the rows it concerns, so a sweep never stops for one
bad point.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import NetworkError
from ..network import Network
from ..plugins import contribution
from ..recording import Recordings
from ..sim.results import Results, SpikeTrains
from ..trials import trial
from .params import apply

METRICS = ("spikes", "rates", "cv", "weights")


@dataclasses.dataclass
class Task:
    """One configuration and its seeds: ``runs[i]`` is the row index of ``seeds[i]``."""

    overrides: dict
    seeds: list[int | None]
    runs: list[int]
    port: str | None = None


@dataclasses.dataclass
class Settings:
    """Defaults of every run of a sweep (a configuration's overrides take precedence)."""

    mode: str = "float"
    backend: str = "numba"
    metrics: tuple[str, ...] = ("spikes", "rates")
    function: Callable[[Results], object] | None = None
    options: dict = dataclasses.field(default_factory=dict)  # for the simulator (dtype, device, ...)


def run_task(network: Network, task: Task, settings: Settings) -> list[dict]:
    """Run ``task`` (on this worker) and return one row per seed, in ``task.runs`` order."""
    rows = [row_head(task, i) for i in range(len(task.seeds))]
    try:
        net, over = apply(network, task.overrides)
        mode = over.get("mode", settings.mode)
        backend = over.get("backend", settings.backend)
        net = _with_recordings(net, settings)
        results = _simulate(net, task, mode, backend, settings)
        for row, res in zip(rows, results):
            row.update(reduce(res, net, settings))
            row["error"] = ""
    except Exception as exc:  # a failed run is reported in its row, not raised
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        for row in rows:
            row["error"] = message
    return rows


def row_head(task: Task, i: int) -> dict:
    """The key columns of the row of ``task``'s ``i``-th seed: ``run``, ``seed`` and the overrides."""
    seed = task.seeds[i]
    return {"run": task.runs[i], "seed": "" if seed is None else seed, **task.overrides}


def _with_recordings(net: Network, settings: Settings) -> Network:
    """The run's network: its own recordings plus the weights the ``weights`` metric needs."""
    rec = Recordings(
        list(net.recordings.spikes), list(net.recordings.rates), list(net.recordings.state),
        list(net.recordings.weights),
    )  # fmt: skip
    net = dataclasses.replace(net, recordings=rec)
    if "weights" in settings.metrics:
        have = {w.projection for w in rec.weights}
        for name in net.projections:
            if name not in have:
                net.record_weights(name)
    return net


def _simulate(net: Network, task: Task, mode: str, backend: str, settings: Settings) -> list[Results]:
    spikes = [g.name for g in net.lif_groups] if ("cv" in settings.metrics or settings.function) else []
    spikes = sorted(set(spikes) | set(net.recordings.spikes))
    if task.port is not None:
        return [_board_run(net if s is None else trial(net, s), task.port, mode) for s in task.seeds]
    from ..sim import simulate

    opts = dict(settings.options)
    if backend == "torch":
        if all(s is not None for s in task.seeds):
            return simulate(net, mode, backend="torch", seeds=task.seeds, spike_populations=spikes, **opts)
        return [simulate(net, mode, backend="torch", spike_populations=spikes, **opts)]
    opts.pop("device", None)
    return [
        simulate(net if s is None else trial(net, s), mode, spike_populations=spikes, progress=False, **opts)
        for s in task.seeds
    ]


def _board_run(net: Network, port: str, mode: str) -> Results:
    """Load ``net`` onto the board at ``port`` (``sim``: a simulated core), run it, collect
    results: the ``board`` runner that ``firmware_host`` registers (:mod:`snn.plugins`)."""
    if mode != "fixed":
        raise NetworkError("a board runs the core's fixed mode; sweep with mode='fixed' (--mode fixed)")
    run_on_board = contribution("snn.runners", "board", "sweeping on boards (--ports)")
    return run_on_board(net, port)


def isi_cv(trains: SpikeTrains) -> float:
    """Mean over neurons (with at least two intervals) of the CV of their inter-spike intervals; NaN if none."""
    order = np.lexsort((trains.steps, trains.ids))
    ids, steps = trains.ids[order], trains.steps[order]
    same = ids[1:] == ids[:-1]
    isi = np.diff(steps)[same].astype(np.float64)
    owner = ids[1:][same]
    if isi.size == 0:
        return float("nan")
    uniq, inverse, counts = np.unique(owner, return_inverse=True, return_counts=True)
    mean = np.bincount(inverse, isi) / counts
    var = np.bincount(inverse, (isi - mean[inverse]) ** 2) / counts
    ok = counts >= 2
    return float(np.mean(np.sqrt(var[ok]) / mean[ok])) if np.any(ok) else float("nan")


def reduce(res: Results, net: Network, settings: Settings) -> dict:
    """The metric columns of one run: ``NAME.spikes``, ``NAME.rate_hz``, ``NAME.isi_cv``,
    ``PROJ.w_mean`` / ``PROJ.w_std`` / ``PROJ.w_min`` / ``PROJ.w_max``, and the user function's."""
    row: dict = {}
    seconds = res.n_steps * res.dt / 1000.0
    for g in net.lif_groups:
        count = int(res.spike_counts[g.name])
        if "spikes" in settings.metrics:
            row[f"{g.name}.spikes"] = count
        if "rates" in settings.metrics:
            row[f"{g.name}.rate_hz"] = count / (g.n * seconds) if seconds > 0 else 0.0
        if "cv" in settings.metrics:
            row[f"{g.name}.isi_cv"] = isi_cv(res.spikes[g.name])
    if "weights" in settings.metrics:
        for name in net.projections:
            w = np.asarray(res.weights[name], np.float64)
            stats = (w.mean(), w.std(), w.min(), w.max()) if w.size else (np.nan,) * 4
            for key, v in zip(("w_mean", "w_std", "w_min", "w_max"), stats):
                row[f"{name}.{key}"] = float(v)
    if settings.function is not None:
        value = settings.function(res)
        if isinstance(value, dict):
            row.update({str(k): _scalar(v) for k, v in value.items()})
        else:
            row[getattr(settings.function, "__name__", "function")] = _scalar(value)
    return row


def _scalar(value: object) -> object:
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    raise NetworkError(
        f"sweep function: return a number, a string or a dict of them, got {type(value).__name__}"
    )


def check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    """Validate the metric names."""
    for m in metrics:
        if m not in METRICS:
            raise NetworkError(f"unknown metric {m!r}; choose from {', '.join(METRICS)} (or pass a function)")
    return tuple(metrics)
