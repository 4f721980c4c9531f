"""Recording on the device: preallocated per-chunk buffers, copied to the host between chunks.

Each step writes into row ``i`` of buffers allocated once per run (static shapes, no host
sync inside a chunk): the recorded elements' spikes ``(K, B, n_rec)`` (bool), spike counts
per LIF group ``(K, B, G)``, the probed neurons' ``v, i_e, i_i`` ``(K, B, 3, n_samp)`` and the
synaptic event count per batch element. ``collect`` moves the filled rows to numpy.
Which populations and neurons are recorded follows ``network.recordings``, as in the numba
simulator (several state probes of one population are merged the same way).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..build import BuiltNetwork
from ..sim.monitors import Monitors as _NumbaMonitors


class DeviceMonitors:
    """Recording buffers of one batched simulation (see module docstring)."""

    def __init__(self, built: BuiltNetwork, spike_populations: Sequence[str], batch: int, chunk: int,
                 state_dtype: torch.dtype, device: torch.device) -> None:  # fmt: skip
        self.built = built
        self.batch = batch
        self.spike_populations = list(spike_populations)
        rec = [np.arange(built.global_start(p), built.global_start(p) + built.network.population(p).n)
               for p in self.spike_populations]  # fmt: skip
        self.rec_idx_np = np.unique(np.concatenate([np.zeros(0, np.int64), *rec]).astype(np.int64))
        self.rec_idx = torch.as_tensor(self.rec_idx_np, device=device)
        self.lif_names = list(built.lif_slices)
        pop_of = np.zeros(built.n_neurons, np.int64)
        for p, sl in enumerate(built.lif_slices.values()):
            pop_of[sl] = p
        self.pop_of = torch.as_tensor(pop_of, device=device)
        self.probes = _NumbaMonitors._merge_probes(built.network.recordings)  # same merging rules
        samp = [p.neurons + built.lif_slices[p.population].start for p in self.probes]
        self.samp_idx = torch.as_tensor(
            np.concatenate([np.zeros(0, np.int64), *samp]).astype(np.int64), device=device
        )
        self.probe_ptr = np.concatenate([[0], np.cumsum([p.neurons.size for p in self.probes])]).astype(
            np.int64
        )
        n_g = len(self.lif_names)
        self.spk = torch.zeros(chunk, batch, self.rec_idx.numel(), dtype=torch.bool, device=device)
        self.cnt = torch.zeros(chunk, batch, n_g, dtype=torch.int64, device=device)
        self.smp = torch.zeros(chunk, batch, 3, self.samp_idx.numel(), dtype=state_dtype, device=device)
        self.events = torch.zeros(batch, dtype=torch.int64, device=device)
        self._steps: list[np.ndarray] = []  # host copies, one entry per chunk
        self._spk: list[np.ndarray] = []
        self._cnt: list[np.ndarray] = []
        self._smp: list[np.ndarray] = []

    def record(self, i: int, spikes: torch.Tensor, n_neurons: int, deg: torch.Tensor, v, i_e, i_i) -> None:
        """Row ``i`` of the chunk: spikes ``(B, n_pre)`` of the step and the state after phase 2."""
        self.spk[i] = spikes[:, self.rec_idx]
        self.cnt[i].zero_().index_add_(1, self.pop_of, spikes[:, :n_neurons].to(torch.int64))
        if self.samp_idx.numel():
            for r, var in enumerate((v, i_e, i_i)):
                self.smp[i, :, r] = var[:, self.samp_idx]
        self.events += (spikes * deg).sum(1)  # elementwise: CUDA has no int64 matmul

    def collect(self, n0: int, m: int) -> None:
        """Copy the first ``m`` rows (steps ``n0 .. n0+m-1``) to the host."""
        self._steps.append(np.arange(n0, n0 + m, dtype=np.int64))
        self._spk.append(self.spk[:m].cpu().numpy().copy())
        self._cnt.append(self.cnt[:m].cpu().numpy().copy())
        self._smp.append(self.smp[:m].cpu().numpy().copy())

    # -- conversion (numpy, one batch element) --------------------------------------------------
    def _cat(self, parts: list[np.ndarray], tail: tuple[int, ...], dtype) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros((0, self.batch, *tail), dtype)

    def spikes(self, b: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{population: (steps, ids within population)}`` of batch element ``b``."""
        raster = self._cat(self._spk, (self.rec_idx_np.size,), bool)[:, b]
        steps = np.concatenate(self._steps) if self._steps else np.zeros(0, np.int64)
        row, col = np.nonzero(raster)  # step-major, ascending id: the numba monitor's order
        step_of, ids = steps[row], self.rec_idx_np[col]
        out = {}
        for name in self.spike_populations:
            start = self.built.global_start(name)
            sel = (ids >= start) & (ids < start + self.built.network.population(name).n)
            out[name] = (step_of[sel].astype(np.int64), ids[sel] - start)
        return out

    def counts(self, b: int) -> np.ndarray:
        """Spike counts per step (rows) and LIF group (columns) of batch element ``b``."""
        return self._cat(self._cnt, (len(self.lif_names),), np.int64)[:, b]

    def state(self, b: int) -> dict[str, tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]]:
        """``{population: (variables, neurons, steps, samples (n_samples, 3, n_neurons))}``."""
        steps = np.concatenate(self._steps) if self._steps else np.zeros(0, np.int64)
        samples = self._cat(self._smp, (3, self.samp_idx.numel()), np.float64)[:, b]
        out = {}
        for p, probe in enumerate(self.probes):
            keep = steps % probe.every == 0
            block = samples[keep][:, :, self.probe_ptr[p] : self.probe_ptr[p + 1]]
            out[probe.population] = (probe.variables, probe.neurons, steps[keep], block)
        return out
