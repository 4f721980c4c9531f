"""The torch simulator: batched float or hardware-exact fixed-mode runs on a CPU or a GPU.

One :class:`TorchSimulator` runs ``B`` runs (the *batch*) of one network at once: the
same synapses and parameters, each with its own state and, with STDP, its own weights.
A batch is either *trials* (``batch=B`` or ``seeds=[...]``: each run draws its own Poisson
inputs and random initial potentials from its trial seed, see :mod:`snn.trials`) or
*copies* driven by given spike trains (``inputs``, one set per run: the supervised case). Every step performs the phases of
docs/core-arithmetic.md on ``(B, ...)`` tensors with a fixed, small number of torch ops:

1-2. delivery and neuron update (:mod:`.neurons`),
3.   inputs (the network's spike sources, or the ``inputs`` tensor),
4.   propagation into an accumulator ring ``(ring, B, 2, n)`` (:mod:`.propagation`),
5.   STDP (:mod:`.plasticity`),
6.   monitors writing into preallocated device buffers (:mod:`.monitors`).

Fixed mode runs in int64 and equals the numba fixed kernel bit for bit; float mode runs
in float32 (default) or float64. The Python loop issues the ops of one step; inputs are
staged and recordings copied back once per chunk of steps, so nothing inside a chunk
waits for the host (except ``propagation="event"``, whose shapes follow the activity).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ..build import BuiltNetwork, input_events
from ..core_spec import CoreSpec
from ..errors import NetworkError
from ..network import Network
from ..quantize import QuantizedNetwork, Quantizer, quantize
from ..sim.inputs import dense_inputs, input_steps
from ..sim.results import Results, SpikeTrains
from ..trials import random_initial_groups, trial, trial_poisson, trial_seeds, trial_v_init
from .monitors import DeviceMonitors
from .neurons import FixedNeurons, FloatNeurons
from .plasticity import Plasticity
from .propagation import Propagator, SynapseTables, choose

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_BUFFER_BYTES = 1 << 26  # recording buffers per chunk: a chunk is at most this large


class TorchSimulator:
    """Batched simulation of a :class:`snn.Network` with torch (see module docstring).

    ``mode``: ``"float"`` (``dtype`` float32 or float64) or ``"fixed"`` (the core's
    integers; ``quantized`` defaults to ``snn.quantize(network, spec or CoreSpec(),
    require_fit=False)``). Without ``batch``, ``seeds`` and ``inputs`` it runs the network as described (one run).
    ``batch=B`` without ``inputs``: trials ``0 .. B-1``, trial ``b`` being
    ``snn.trial(network, snn.trial_seed(network.seed, b))`` (:mod:`snn.trials`). ``seeds``:
    the trials of these trial seeds (``batch`` defaults to their number). With ``inputs``
    the runs are copies of the network (same initial state) driven by the given trains.
    ``inputs``: optional ``(B, n_steps, n_sources)`` 0/1 array or tensor that replaces the
    spikes of the network's sources (steps beyond ``n_steps`` get none), or a dict
    ``{source name: (B, steps, n) or (steps, n) array}`` that replaces the named sources only
    (:mod:`snn.sim.inputs`).
    ``propagation``: ``"auto"``, ``"dense"``, ``"event"`` or ``"sparse"`` (see
    :mod:`snn.torch_backend.propagation`). ``spike_populations`` as in the numba simulator.
    """

    def __init__(
        self,
        network: Network,
        mode: str = "float",
        *,
        device: str | torch.device = "cpu",
        dtype: str = "float32",
        batch: int | None = None,
        inputs=None,
        spec: CoreSpec | None = None,
        quantized: QuantizedNetwork | None = None,
        propagation: str = "auto",
        spike_populations: Sequence[str] | None = None,
        seeds: Sequence[int] | None = None,
    ) -> None:
        if mode not in ("float", "fixed"):
            raise NetworkError(f"torch backend: mode must be 'float' or 'fixed', got {mode!r}")
        if dtype not in _DTYPES:
            raise NetworkError(f"torch backend: dtype must be 'float32' or 'float64', got {dtype!r}")
        self.device = torch.device(device)
        built: BuiltNetwork = quantized.built if quantized is not None else network.build()
        if mode == "fixed" and quantized is None:
            quantized = quantize(built, spec or CoreSpec(), require_fit=False)
        self.network, self.built, self.mode = network, built, mode
        self.quantized = quantized if mode == "fixed" else None
        if isinstance(inputs, Mapping):  # by source name: {name: (B, steps, n) or (steps, n)}
            inputs = dense_inputs(built, inputs, batch)
        self.inputs = self._inputs(inputs)
        self.seeds = self._seeds(network, seeds, batch)
        if batch is None:
            batch = 1 if self.inputs is None else self.inputs.shape[1]
            batch = len(self.seeds) if self.seeds is not None else batch
        if self.inputs is not None and self.inputs.shape[1] != batch:
            raise NetworkError(
                f"torch backend: inputs hold {self.inputs.shape[1]} trials for a batch of {batch}"
            )
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise NetworkError(f"torch backend: batch must be an integer >= 1, got {batch!r}")
        self.batch = batch
        fixed = mode == "fixed"
        self.state_dtype = torch.int64 if fixed else _DTYPES[dtype]
        dev = self.device
        self.neurons = (
            FixedNeurons(self.quantized, dev) if fixed else FloatNeurons(built, self.state_dtype, dev)
        )
        self.s = self.neurons.initial(batch)
        v0 = self._trial_v_init()
        if v0 is not None:
            self.s.v.copy_(v0)
        self._trial_inputs = self._trial_input_tables()
        self.syn = SynapseTables.from_built(built, dev)
        w0 = quantized.weight if fixed else built.syn_weight
        weight = torch.as_tensor(np.asarray(w0), device=dev).to(self.state_dtype)
        plastic = bool(built.rules)
        self.weight = weight.expand(batch, -1).clone() if plastic else weight  # own copy per trial with STDP
        self.propagation = choose(propagation, self.syn, plastic, dev)
        self.propagate = Propagator(self.propagation, self.syn, self.weight, fixed, self.state_dtype)
        self.plasticity = Plasticity(built, self.quantized, self.state_dtype, dev) if plastic else None
        n, n_pre, n_rules = built.n_neurons, self.syn.n_pre, len(built.rules)
        self.acc = torch.zeros(self.syn.ring, batch, 2, n, dtype=self.state_dtype, device=dev)
        self.x = torch.zeros(batch, n_rules, n_pre, dtype=self.state_dtype, device=dev)
        self.y = torch.zeros(batch, n_rules, n, dtype=self.state_dtype, device=dev)
        spike_pops = network.recordings.spikes if spike_populations is None else spike_populations
        n_probed = sum(np.size(sp.neurons) for sp in network.recordings.state)  # upper bound after merging
        per_step = batch * (2 * n_pre + 8 * (3 * n_probed + len(built.lif_slices)))
        self.chunk = int(min(max(_BUFFER_BYTES // max(per_step, 1), 1), 4096))
        self.monitors = DeviceMonitors(built, spike_pops, batch, self.chunk, self.state_dtype, dev)
        self._weight_probes = {wp.projection: wp.every for wp in network.recordings.weights}
        self._snapshots: dict[str, list[np.ndarray]] = {name: [] for name in self._weight_probes}
        self._snapshot_steps: dict[str, list[int]] = {name: [] for name in self._weight_probes}
        self.step = 0
        self.run_s = 0.0
        self._snapshot(periodic_only=True)

    # -- inputs --------------------------------------------------------------------------------
    def _inputs(self, inputs) -> torch.Tensor | None:
        """User inputs as a ``(n_steps, B, n_sources)`` bool tensor on the device."""
        if inputs is None:
            return None
        t = torch.as_tensor(inputs, device=self.device)
        n_src = self.built.n_sources
        if t.dim() != 3 or t.shape[2] != n_src:
            raise NetworkError(
                f"torch backend: inputs must be (batch, steps, {n_src} sources), got {tuple(t.shape)}"
            )
        return (t != 0).transpose(0, 1).contiguous()

    def _seeds(self, network: Network, seeds, batch) -> list[int] | None:
        """Trial seeds of the batch, or ``None`` for one run or copies driven by ``inputs``."""
        if seeds is not None:
            if self.inputs is not None:
                raise NetworkError(
                    "torch backend: give either inputs= (copies driven by given spike trains) "
                    "or seeds= (trials), not both"
                )
            if isinstance(seeds, (str, bytes)) or not all(_is_seed(s) for s in seeds) or not len(seeds):
                raise NetworkError(
                    f"torch backend: seeds must be a non-empty list of integers >= 0, got {seeds!r}"
                )
            if batch is not None and batch != len(seeds):
                raise NetworkError(f"torch backend: {len(seeds)} seeds for a batch of {batch}")
            return [int(s) for s in seeds]
        if self.inputs is None and _is_seed(batch) and batch >= 1:
            return trial_seeds(network.seed, batch)
        return None

    def _trial_v_init(self) -> torch.Tensor | None:
        """Each trial's initial potentials ``(B, n)`` (mV or LSBs) when some ``v_init`` is random."""
        if self.seeds is None or not random_initial_groups(self.network):
            return None
        rows = []
        for seed in self.seeds:
            v = self.built.params["v_init"].copy()
            for name, drawn in trial_v_init(self.network, seed).items():
                v[self.built.lif_slices[name]] = drawn
            rows.append(v)
        v = np.stack(rows)
        if self.quantized is not None:  # as quantize() converts v_init
            spec = self.quantized.spec
            lo, hi = spec.v_range
            v = Quantizer(spec, clip=False).fixed(
                "v_init", "mV", v, scale=2.0**spec.frac_bits, lo=lo, hi=hi, width=f"{spec.v_bits}-bit v"
            )
        return torch.as_tensor(v, device=self.device).to(self.state_dtype)

    def _trial_input_tables(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Input spikes as CSR tables ``(ptr, ids)``: one per trial when trials redraw Poisson sources."""
        b = self.built
        if self.seeds is None or not trial_poisson(self.network):
            return [(b.input_ptr, b.input_ids)]
        return [input_events(trial(self.network, s), b.source_slices, b.n_sources) for s in self.seeds]

    def _stage_inputs(self, n0: int, m: int) -> torch.Tensor:
        """Input spikes of steps ``n0 .. n0+m-1`` as ``(m, B or 1, n_sources)`` bool on the device."""
        if self.inputs is not None:
            out = torch.zeros(m, self.batch, self.built.n_sources, dtype=torch.bool, device=self.device)
            hi = min(n0 + m, self.inputs.shape[0])
            if hi > n0:
                out[: hi - n0] = self.inputs[n0:hi]
            return out
        dense = np.zeros((m, len(self._trial_inputs), self.built.n_sources), bool)
        for row, (ptr, ids) in enumerate(self._trial_inputs):
            last = ptr.size - 1  # inputs exist for the network's duration only
            lo, hi = min(n0, last), min(n0 + m, last)
            steps = np.repeat(np.arange(lo, hi), np.diff(ptr[lo : hi + 1]))
            dense[steps - n0, row, ids[ptr[lo] : ptr[hi]]] = True
        return torch.as_tensor(dense, device=self.device)

    # -- running -------------------------------------------------------------------------------
    def _step(self, n: int, i: int, inputs: torch.Tensor) -> None:
        """Phases 1-6 of step ``n`` (row ``i`` of the chunk)."""
        nn = self.built.n_neurons
        spk = self.neurons.step(self.s, self.acc[n % self.syn.ring])
        pre = torch.cat([spk, inputs.expand(self.batch, -1)], dim=1)
        self.propagate(n, pre, self.weight, self.acc)
        if self.plasticity is not None:
            self.plasticity.step(pre, nn, self.x, self.y, self.weight)
        self.monitors.record(i, pre, nn, self.syn.deg, self.s.v, self.s.i_e, self.s.i_i)

    @torch.no_grad()
    def run(self, n_steps: int) -> None:
        """Advance ``n_steps`` timesteps (continues where the previous call stopped)."""
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise NetworkError(f"torch backend: n_steps must be an integer >= 0, got {n_steps!r}")
        target = self.step + int(n_steps)
        while self.step < target:
            m = min(self.chunk, target - self.step)
            for every in self._weight_probes.values():
                if every > 0:
                    m = min(m, every - self.step % every)
            n0 = self.step
            t0 = time.perf_counter()
            staged = self._stage_inputs(n0, m)
            for i in range(m):
                self._step(n0 + i, i, staged[i])
            self.monitors.collect(n0, m)  # copies to the host: waits for the device
            self.run_s += time.perf_counter() - t0
            self.step += m
            self._snapshot(periodic_only=True)

    def _snapshot(self, periodic_only: bool) -> None:
        for name, every in self._weight_probes.items():
            steps = self._snapshot_steps[name]
            due = (every > 0 and self.step % every == 0) if periodic_only else True
            if due and (not steps or steps[-1] != self.step):
                self._snapshots[name].append(self._weights_np()[:, self.built.proj_positions[name]])
                steps.append(self.step)

    def _weights_np(self) -> np.ndarray:
        """Weights ``(B, n_syn)`` in BuiltNetwork CSR order (float64 mV or int64 LSBs)."""
        w = self.weight.expand(self.batch, -1) if self.weight.dim() == 1 else self.weight
        return w.cpu().numpy().astype(np.int64 if self.mode == "fixed" else np.float64)

    # -- inspection ----------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, np.ndarray]:
        """Copies of the state with a leading batch dimension: ``v, i_e, i_i, ref`` ``(B, n)``,
        traces ``x`` ``(B, R, n_pre)``, ``y`` ``(B, R, n)``, ``weight`` ``(B, n_syn)`` (CSR order).

        Float mode: mV in the simulation dtype; fixed mode: int64 LSBs (as ``Simulator.state``).
        """
        out = {k: getattr(self.s, k).cpu().numpy().copy() for k in ("v", "i_e", "i_i", "ref")}
        out["x"], out["y"] = self.x.cpu().numpy().copy(), self.y.cpu().numpy().copy()
        w = self.weight.expand(self.batch, -1) if self.weight.dim() == 1 else self.weight
        out["weight"] = w.cpu().numpy().copy()
        return out

    def results(self) -> list[Results]:
        """Everything recorded so far, one :class:`Results` per batch element."""
        self._snapshot(periodic_only=False)
        return [self._results(b) for b in range(self.batch)]

    def _results(self, b: int) -> Results:
        bn, mon, q = self.built, self.monitors, self.quantized
        events = mon.events.cpu().numpy()
        res = Results(mode=self.mode, dt=bn.dt, n_steps=self.step, compile_s=0.0, run_s=self.run_s,
                      n_events=int(events[b]), n_neurons=bn.n_neurons, n_synapses=bn.n_synapses)  # fmt: skip
        to_mV = q.to_mV if q is not None else (lambda a: np.asarray(a, np.float64))
        w_to_mV = q.weights_mV if q is not None else (lambda a: np.asarray(a, np.float64))
        for name, (steps, ids) in mon.spikes(b).items():
            res.spikes[name] = SpikeTrains(steps, ids, bn.dt)
        counts = mon.counts(b)
        for p, name in enumerate(mon.lif_names):
            n = bn.lif_slices[name].stop - bn.lif_slices[name].start
            res.population_sizes[name] = n
            res.spike_counts[name] = int(counts[:, p].sum())
            if name in bn.network.recordings.rates:
                res.rates[name] = counts[:, p] / (n * bn.dt / 1000.0)
        res.n_spikes = int(counts.sum())
        for pop, (variables, neurons, steps, samples) in mon.state(b).items():
            res.state_times[pop] = (steps + 1) * bn.dt
            res.state_neurons[pop] = neurons
            res.state[pop] = {}
            for var in variables:
                col = samples[:, ("v", "i_e", "i_i").index(var), :]
                res.state[pop][var] = to_mV(col)
                if q is not None:
                    res.state_raw.setdefault(pop, {})[var] = col.astype(np.int64)
        final = self._weights_np()[b]
        for name in self._weight_probes:
            proj = self.network.projections[name]
            raw = final[bn.proj_positions[name]]
            res.weights[name] = w_to_mV(raw)
            snaps = np.array([s[b] for s in self._snapshots[name]]).reshape(
                len(self._snapshots[name]), raw.size
            )
            res.weight_snapshots[name] = w_to_mV(snaps)
            res.weight_snapshot_steps[name] = np.array(self._snapshot_steps[name], np.int64)
            if q is not None:
                res.weights_raw[name] = raw.astype(np.int64)
            res.weight_pairs[name] = np.stack(bn.projection_pairs(name)).astype(np.int64)
            res.weight_shapes[name] = (bn.network.population(proj.pre).n, bn.network.population(proj.post).n)
        return res


def _is_seed(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 0


def simulate(
    network: Network, mode: str = "float", duration: float | None = None, **kwargs
) -> Results | list[Results]:
    """Build, run for ``duration`` ms (default ``network.duration``) on torch and return the results.

    Keyword arguments go to :class:`TorchSimulator` (``device``, ``dtype``, ``batch``,
    ``inputs``, ``propagation``, ...). Returns one :class:`Results`, or a list of them when
    ``batch``, ``seeds`` or ``inputs`` is given (trials, or copies driven by ``inputs``). The numba simulator's ``progress`` and ``threads``
    are accepted and ignored. If the network records no spikes, every LIF group's are.
    """
    kwargs.pop("progress", None)
    kwargs.pop("threads", None)
    inputs = kwargs.get("inputs")
    if isinstance(inputs, Mapping):  # by name: batched when an array has a batch axis
        batched = kwargs.get("batch") is not None or any(np.ndim(a) == 3 for a in inputs.values())
        if duration is None:  # run as long as the given inputs
            duration = input_steps(inputs) * network.dt
    else:
        batched = kwargs.get("batch") is not None or inputs is not None
    batched = batched or kwargs.get("seeds") is not None
    if duration is not None and duration != network.duration:
        network = dataclasses.replace(network, duration=duration)
    if "spike_populations" not in kwargs and not network.recordings.spikes:
        kwargs["spike_populations"] = [g.name for g in network.lif_groups]
    sim = TorchSimulator(network, mode, **kwargs)
    sim.run(network.n_steps)
    out = sim.results()
    return out if batched else out[0]
