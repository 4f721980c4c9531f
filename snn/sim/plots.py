"""Figures of a :class:`Results` (matplotlib Figures rendered by Agg, no pyplot): raster, rates, traces, weights.

Each function draws into ``ax`` (or a new figure), labels axes with units, saves to
``path`` when given, and returns the Figure.
"""

from __future__ import annotations

import numpy as np


def _axes(ax, size=(8.0, 4.0)):
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, nothing global

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_raster(res, path=None, ax=None, populations=None):
    """Spikes as dots: time (ms) against neuron index, populations stacked and coloured."""
    fig, ax = _axes(ax)
    offset = 0
    names = list(populations or res.spikes)
    for name in names:
        st = res.spikes[name]
        size = res.population_sizes.get(name, int(st.ids.max(initial=-1)) + 1)
        ax.scatter(
            st.times, st.ids + offset, s=1.0, marker=".", linewidths=0, label=f"{name} ({len(st)} spikes)"
        )
        if offset:
            ax.axhline(offset - 0.5, color="0.7", linewidth=0.5)
        offset += size
    ax.set_xlim(0, res.duration)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron index")
    ax.set_title(f"Spike raster ({res.mode} mode, {res.duration:g} ms)")
    if names:
        ax.legend(loc="upper right", markerscale=8, fontsize="small")
    return _finish(fig, path)


def plot_rate(res, path=None, ax=None, populations=None, bin_ms: float = 1.0):
    """Population rate (Hz) against time (ms), averaged in bins of ``bin_ms``."""
    fig, ax = _axes(ax)
    names = list(populations or res.rates)
    per_bin = max(1, int(round(bin_ms / res.dt)))
    for name in names:
        rate = res.rates[name]
        n_bins = rate.size // per_bin
        binned = rate[: n_bins * per_bin].reshape(n_bins, per_bin).mean(axis=1)
        t = (np.arange(n_bins) + 0.5) * per_bin * res.dt
        ax.plot(t, binned, linewidth=1.0, label=f"{name} (mean {rate.mean():.2f} Hz)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"Population rate ({per_bin * res.dt:g} ms bins)")
    if names:
        ax.legend(loc="upper right", fontsize="small")
    return _finish(fig, path)


def plot_traces(res, path=None, ax=None, population=None, variable: str = "v", max_neurons: int = 8):
    """State traces (mV) of up to ``max_neurons`` recorded neurons against time (ms)."""
    fig, ax = _axes(ax)
    pop = population or next(iter(res.state), None)
    if pop is not None and variable in res.state.get(pop, {}):
        data = res.state[pop][variable]
        neurons = res.state_neurons.get(pop, np.arange(data.shape[1]))
        for col in range(min(max_neurons, data.shape[1])):
            ax.plot(res.state_times[pop], data[:, col], linewidth=0.8, label=f"neuron {neurons[col]}")
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"{variable} (mV)")
    ax.set_title(f"{variable} of {pop}" if pop else "no state recorded")
    return _finish(fig, path)


def plot_weights(res, path=None, ax=None, projections=None):
    """Final weights: a pre x post matrix image for small dense projections, else a histogram."""
    names = list(projections or res.weights)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5.0 * max(len(names), 1), 4.0), layout="constrained")
        axes = [fig.add_subplot(1, max(len(names), 1), i + 1) for i in range(max(len(names), 1))]
    else:
        fig, axes = ax.figure, [ax] * max(len(names), 1)
    for axis, name in zip(axes, names):
        w = res.weights[name]
        n_pre, n_post = res.weight_shapes.get(name, (0, 0))
        dense = (
            name in res.weight_pairs and 0 < n_pre * n_post <= 256 * 256 and w.size >= 0.5 * n_pre * n_post
        )
        if dense:
            mat = np.full((n_pre, n_post), np.nan)
            pre, post = res.weight_pairs[name]
            mat[pre, post] = w
            im = axis.imshow(mat, aspect="auto", interpolation="nearest", cmap="viridis")
            fig.colorbar(im, ax=axis, label="weight (mV)")
            axis.set_xlabel("post neuron index")
            axis.set_ylabel("pre index")
        else:
            axis.hist(w, bins=50, color="tab:blue")
            axis.set_xlabel("weight (mV)")
            axis.set_ylabel("synapses")
        axis.set_title(f"Final weights of {name} ({w.size} synapses)")
    if not names:
        axes[0].set_title("no weights recorded")
    return _finish(fig, path)
