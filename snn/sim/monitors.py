"""Recording buffers that the kernels fill, chunk by chunk, and their conversion to results.

What is recorded comes from ``network.recordings`` (snn/recording.py):

- spikes of the listed populations (LIF groups or sources): a buffer of (step, global id)
  that grows by doubling between chunks (the kernel stops early when it could overflow);
- population spike counts per step for every LIF group (rates are derived from them);
- state probes: ``v``, ``i_e``, ``i_i`` of chosen neurons every ``every`` steps, sampled after
  the neuron update (phase 2) of step ``n``, i.e. the state at time ``(n + 1) * dt``.
  Several probes of one population are merged (union of variables and neurons, shortest
  period);
- weight snapshots are taken by the simulator between chunks (see simulator.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..build import BuiltNetwork
from ..recording import Recordings
from .kernels_common import Record


@dataclass
class _Probe:
    population: str
    variables: tuple[str, ...]
    neurons: np.ndarray  # indices within the population
    every: int
    samples: list[np.ndarray] = field(default_factory=list)  # (rows, 3, n) blocks
    steps: list[np.ndarray] = field(default_factory=list)


class Monitors:
    """Buffers for one simulation; ``chunk_args`` feeds the kernel, ``collect`` keeps the output."""

    def __init__(self, built: BuiltNetwork, recordings: Recordings, spike_populations, state_dtype) -> None:
        n_pre = built.n_neurons + built.n_sources
        self.built = built
        self.spike_populations = list(spike_populations)
        self.rec_mask = np.zeros(n_pre, np.uint8)
        for name in self.spike_populations:
            start = built.global_start(name)
            self.rec_mask[start : start + built.network.population(name).n] = 1
        self.n_rec = int(self.rec_mask.sum())
        # int32 (steps and global ids are below 2**31: snn.limits): half the memory of int64
        self.spike_steps = np.zeros(max(1024, 2 * self.n_rec), np.int32)
        self.spike_ids = np.zeros_like(self.spike_steps)
        self.spike_count = 0
        self.lif_names = list(built.lif_slices)
        self.pop_of = np.zeros(built.n_neurons, np.int32)
        for p, sl in enumerate(built.lif_slices.values()):
            self.pop_of[sl] = p
        self.rate_populations = list(recordings.rates)
        self.pop_counts: list[np.ndarray] = []
        self.probes = self._merge_probes(recordings)
        self.samp_idx = np.concatenate(
            [np.zeros(0, np.int64)] + [p.neurons + built.lif_slices[p.population].start for p in self.probes]
        ).astype(np.int64)
        self.probe_ptr = np.zeros(len(self.probes) + 1, np.int64)
        np.cumsum([p.neurons.size for p in self.probes], out=self.probe_ptr[1:])
        self.probe_every = np.array([p.every for p in self.probes], np.int64)
        self.state_dtype = state_dtype

    @staticmethod
    def _merge_probes(recordings: Recordings) -> list[_Probe]:
        merged: dict[str, _Probe] = {}
        for sp in recordings.state:
            if sp.population not in merged:
                merged[sp.population] = _Probe(
                    sp.population, tuple(sp.variables), np.asarray(sp.neurons), sp.every
                )
                continue
            p = merged[sp.population]
            p.variables += tuple(v for v in sp.variables if v not in p.variables)
            p.neurons = np.union1d(p.neurons, sp.neurons)
            p.every = min(p.every, sp.every)
        return list(merged.values())

    def chunk_args(self, n0: int, m: int) -> Record:
        """The kernels' :class:`Record` for steps ``n0 .. n0+m-1`` (fresh sample and count blocks)."""
        if self.spike_steps.size - self.spike_count < 2 * self.n_rec:
            new = max(2 * self.spike_steps.size, self.spike_count + 2 * self.n_rec)
            self.spike_steps = np.resize(self.spike_steps, new)
            self.spike_ids = np.resize(self.spike_ids, new)
        self._counts = np.zeros((m, len(self.lif_names)), np.int64)
        first = np.array([-(-n0 // p.every) for p in self.probes], np.int64)
        rows = np.array([(n0 + m - 1) // p.every - f + 1 for p, f in zip(self.probes, first)], np.int64)
        widths = np.diff(self.probe_ptr)
        base = np.zeros(len(self.probes), np.int64)
        if len(self.probes):
            base[1:] = np.cumsum(rows * widths)[:-1]
        total = int(np.sum(rows * widths))
        self._samples = [np.zeros(total, self.state_dtype) for _ in range(3)]
        self._first, self._rows, self._base = first, rows, base
        out_v, out_ie, out_ii = self._samples
        return Record(
            rec_mask=self.rec_mask, n_rec=self.n_rec, out_steps=self.spike_steps, out_ids=self.spike_ids,
            count=self.spike_count, pop_of=self.pop_of, pop_counts=self._counts, samp_idx=self.samp_idx,
            probe_ptr=self.probe_ptr, probe_every=self.probe_every, probe_base=base, probe_first=first,
            out_v=out_v, out_ie=out_ie, out_ii=out_ii,
        )  # fmt: skip

    def collect(self, n0: int, done: int, spike_count: int) -> None:
        """Keep what the kernel wrote for the ``done`` steps it advanced."""
        self.spike_count = spike_count
        self.pop_counts.append(self._counts[:done])
        for p, probe in enumerate(self.probes):
            lo, hi = self.probe_ptr[p], self.probe_ptr[p + 1]
            steps = np.arange(self._first[p], self._rows[p] + self._first[p]) * probe.every
            keep = int(np.count_nonzero(steps < n0 + done))
            width = hi - lo
            block = [
                s[self._base[p] : self._base[p] + keep * width].reshape(keep, width) for s in self._samples
            ]
            probe.samples.append(np.stack(block, axis=1))
            probe.steps.append(steps[:keep])

    # -- conversion --------------------------------------------------------------------------
    def spikes(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{population: (steps, ids within population)}`` for the recorded populations."""
        steps = self.spike_steps[: self.spike_count]
        ids = self.spike_ids[: self.spike_count]
        out = {}
        for name in self.spike_populations:
            start = self.built.global_start(name)
            sel = (ids >= start) & (ids < start + self.built.network.population(name).n)
            out[name] = (steps[sel].astype(np.int64), ids[sel].astype(np.int64) - start)
        return out

    def counts(self) -> np.ndarray:
        """Spike counts per step (rows) and LIF group (columns)."""
        if not self.pop_counts:
            return np.zeros((0, len(self.lif_names)), np.int64)
        return np.concatenate(self.pop_counts)

    def state(self) -> dict[str, tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]]:
        """``{population: (variables, neurons, steps, samples (n_samples, 3, n_neurons))}``."""
        out = {}
        for probe in self.probes:
            width = probe.neurons.size
            samples = (
                np.concatenate(probe.samples) if probe.samples else np.zeros((0, 3, width), self.state_dtype)
            )
            steps = np.concatenate(probe.steps) if probe.steps else np.zeros(0, np.int64)
            out[probe.population] = (probe.variables, probe.neurons, steps, samples)
        return out
