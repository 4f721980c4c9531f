"""What a simulation returns: spikes, state traces, rates, weights and timings.

Units: times in ms, potentials, currents and weights in mV, rates in Hz. In fixed mode
the raw integers are kept too (``state_raw``, ``weights_raw``: LSBs of the core).
``save``/``load`` round-trip exactly through one ``.npz`` file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class SpikeTrains:
    """Spikes of one population: ``steps`` (int64), ``ids`` (int64, index within the population)."""

    steps: np.ndarray
    ids: np.ndarray
    dt: float

    @property
    def times(self) -> np.ndarray:
        """Spike times in ms (``steps * dt``)."""
        return self.steps * self.dt

    def __len__(self) -> int:
        return int(self.steps.size)


@dataclass
class Results:
    """Everything recorded by one simulation (see the module docstring for units).

    ``spikes[pop]``: :class:`SpikeTrains`. ``state[pop][var]``: ``(n_samples, n_recorded)``
    float64 mV, sampled at ``state_times[pop]`` (ms, the time after the step's update) for
    neurons ``state_neurons[pop]``. ``rates[pop]``: Hz, one value per step.
    ``weights[proj]``: final weights (mV) in the projection's own synapse order;
    ``weight_snapshots[proj]`` ``(n_snap, n_syn)`` taken at ``weight_snapshot_steps[proj]``.
    ``weight_pairs[proj]`` (2, n_syn) gives each synapse's (pre, post) index within its populations.
    ``spike_counts[pop]``: total spikes of every LIF group (recorded or not).
    """

    mode: str
    dt: float
    n_steps: int
    spikes: dict[str, SpikeTrains] = field(default_factory=dict)
    state: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    state_raw: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    state_times: dict[str, np.ndarray] = field(default_factory=dict)
    state_neurons: dict[str, np.ndarray] = field(default_factory=dict)
    rates: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    weights_raw: dict[str, np.ndarray] = field(default_factory=dict)
    weight_snapshots: dict[str, np.ndarray] = field(default_factory=dict)
    weight_snapshot_steps: dict[str, np.ndarray] = field(default_factory=dict)
    weight_pairs: dict[str, np.ndarray] = field(default_factory=dict)  # (2, n_syn): pre, post indices
    weight_shapes: dict[str, tuple[int, int]] = field(default_factory=dict)  # (n_pre, n_post)
    population_sizes: dict[str, int] = field(default_factory=dict)
    spike_counts: dict[str, int] = field(default_factory=dict)
    compile_s: float = 0.0
    run_s: float = 0.0
    n_spikes: int = 0
    n_events: int = 0
    n_neurons: int = 0
    n_synapses: int = 0

    @property
    def duration(self) -> float:
        """Simulated time in ms."""
        return self.n_steps * self.dt

    def mean_rate(self, population: str) -> float:
        """Mean firing rate of a LIF group over the run, in Hz."""
        seconds = self.duration / 1000.0
        n = self.population_sizes[population]
        return self.spike_counts[population] / (n * seconds) if seconds > 0 and n else 0.0

    # -- files ----------------------------------------------------------------------------
    _SCALARS = (
        "mode",
        "dt",
        "n_steps",
        "compile_s",
        "run_s",
        "n_spikes",
        "n_events",
        "n_neurons",
        "n_synapses",
    )
    _NESTED = ("state", "state_raw")
    _FLAT = ("state_times", "state_neurons", "rates", "weights", "weights_raw", "weight_snapshots",
             "weight_snapshot_steps", "weight_pairs")  # fmt: skip

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` file that :meth:`load` reads back exactly."""
        arrays: dict[str, np.ndarray] = {}
        meta = {k: getattr(self, k) for k in self._SCALARS}
        meta["population_sizes"] = self.population_sizes
        meta["spike_counts"] = self.spike_counts
        meta["weight_shapes"] = self.weight_shapes
        names: list[tuple[str, str, str]] = []

        def put(name: tuple[str, str, str], arr: np.ndarray) -> None:
            arrays[f"a{len(names)}"] = arr
            names.append(name)

        for pop, st in self.spikes.items():
            put(("spikes", pop, "steps"), st.steps)
            put(("spikes", pop, "ids"), st.ids)
        for attr in self._NESTED:
            for pop, variables in getattr(self, attr).items():
                for var, arr in variables.items():
                    put((attr, pop, var), arr)
        for attr in self._FLAT:
            for key, arr in getattr(self, attr).items():
                put((attr, key, ""), arr)
        meta["names"] = names
        with open(path, "wb") as fh:
            np.savez_compressed(fh, __meta__=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Results:
        """Read a file written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            res = cls(**{k: meta[k] for k in cls._SCALARS})
            res.population_sizes = meta["population_sizes"]
            res.spike_counts = meta["spike_counts"]
            res.weight_shapes = {k: tuple(v) for k, v in meta["weight_shapes"].items()}
            spikes: dict[str, dict[str, np.ndarray]] = {}
            for i, (attr, key, sub) in enumerate(meta["names"]):
                arr = data[f"a{i}"]
                if attr == "spikes":
                    spikes.setdefault(key, {})[sub] = arr
                elif attr in cls._NESTED:
                    getattr(res, attr).setdefault(key, {})[sub] = arr
                else:
                    getattr(res, attr)[key] = arr
        res.spikes = {pop: SpikeTrains(d["steps"], d["ids"], res.dt) for pop, d in spikes.items()}
        return res

    # -- plots (matplotlib, Agg) -----------------------------------------------------------
    def plot_raster(self, path=None, ax=None, populations=None):
        """Spike raster (time in ms against neuron index); returns the Figure."""
        from .plots import plot_raster

        return plot_raster(self, path, ax, populations)

    def plot_rate(self, path=None, ax=None, populations=None, bin_ms: float = 1.0):
        """Population rates (Hz) in bins of ``bin_ms``; returns the Figure."""
        from .plots import plot_rate

        return plot_rate(self, path, ax, populations, bin_ms)

    def plot_traces(self, path=None, ax=None, population=None, variable: str = "v", max_neurons: int = 8):
        """Recorded state traces (mV against ms); returns the Figure."""
        from .plots import plot_traces

        return plot_traces(self, path, ax, population, variable, max_neurons)

    def plot_weights(self, path=None, ax=None, projections=None):
        """Final weights of recorded projections: histogram, or a matrix for small dense ones."""
        from .plots import plot_weights

        return plot_weights(self, path, ax, projections)
