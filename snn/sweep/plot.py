"""Plots of a sweep: lines over one swept parameter, a heat map over two (means over the seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import NetworkError


def _axis(values: list) -> list:
    """The distinct values of a swept parameter, in the order they first appear."""
    return list(dict.fromkeys(values))


def plot_sweep(result, path: Path, metric: str | None = None) -> Path:
    """Draw ``result`` (a :class:`~snn.sweep.SweepResult`) into ``path``; returns ``path``.

    One swept parameter: every ``*.rate_hz`` column (or ``metric``) against it, mean and
    standard deviation over the seeds. Two: a heat map of ``metric`` (default: the first
    ``*.rate_hz`` column), mean over the seeds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    swept = [p for p in result.params if len(_axis([r[p] for r in result.rows])) > 1]
    if len(swept) not in (1, 2):
        raise NetworkError(f"a sweep plot needs one or two swept parameters, this sweep has {len(swept)}")
    rates = [c for c in result.columns if c.endswith(".rate_hz")]
    metrics = [metric] if metric else rates
    if not metrics or any(m not in result.columns for m in metrics):
        raise NetworkError(f"plot: choose a metric column (columns: {', '.join(result.columns)})")
    ok = [r for r in result.rows if not r.get("error")]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    if len(swept) == 1:
        (p,) = swept
        xs = _axis([r[p] for r in result.rows])
        numeric = all(isinstance(x, (int, float)) for x in xs)
        pos = np.asarray(xs, float) if numeric else np.arange(len(xs))
        for m in metrics:
            groups = [[float(r[m]) for r in ok if r[p] == x] for x in xs]
            mean = np.array([np.mean(g) if g else np.nan for g in groups])
            std = np.array([np.std(g) if g else np.nan for g in groups])
            ax.errorbar(pos, mean, yerr=std, marker="o", capsize=3, label=m)
        if not numeric:
            ax.set_xticks(pos, [str(x) for x in xs])
        ax.set_xlabel(p)
        ax.set_ylabel(metrics[0] if len(metrics) == 1 else "rate (Hz)" if metrics == rates else "value")
        ax.legend()
    else:
        py, px = swept
        m = metrics[0]
        ys, xs = _axis([r[py] for r in result.rows]), _axis([r[px] for r in result.rows])
        grid = np.full((len(ys), len(xs)), np.nan)
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                vals = [float(r[m]) for r in ok if r[py] == y and r[px] == x]
                grid[i, j] = np.mean(vals) if vals else np.nan
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        ax.set_yticks(range(len(ys)), [str(y) for y in ys])
        ax.set_xlabel(px)
        ax.set_ylabel(py)
        fig.colorbar(im, ax=ax, label=m)
    seeds = len(_axis([r["seed"] for r in result.rows]))
    ax.set_title(f"sweep: {len(result.rows)} runs" + (f", mean over {seeds} seeds" if seeds > 1 else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
