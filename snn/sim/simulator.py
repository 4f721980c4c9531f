"""The :class:`Simulator`: prepares arrays, drives the numba kernels in chunks, collects results.

The time loop runs in compiled code (``kernels_float.run_chunk`` / ``kernels_fixed.run_chunk``);
Python only calls it once per chunk of steps (about 0.2 s of work), to update the progress
bar, grow the spike buffer and take weight snapshots.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence

import numba
import numpy as np

from ..build import BuiltNetwork, build
from ..core_spec import CoreSpec
from ..errors import NetworkError
from ..limits import check_memory
from ..network import Network
from ..quantize import QuantizedNetwork, propagators, quantize
from . import kernel_cache, kernels_fixed, kernels_float, sync
from .inputs import input_steps, with_inputs
from .kernels_common import (
    LS_CONTENDED,
    LS_COUNT,
    LS_DONE,
    LS_EVENTS,
    LS_RAN,
    LS_STATUS,
    LS_TIMEOUT,
    Inputs,
    Params,
    Plasticity,
    State,
    Synapses,
    Team,
)
from .layout import fixed_rule_table, float_rule_table, segments, split_blocks, synapse_layout
from .monitors import Monitors
from .progress import RunProgress
from .results import Results, SpikeTrains

_CHUNK_SECONDS = 0.2  # target wall time of one kernel call
# threads > 1 with plasticity run the parallel kernels (two parallel regions per step) only
# from this many neurons per thread on: each region costs about 1 us to start and join, more
# than a small network's whole step saves (measured on 2 cores: break-even near 10k neurons)
PARALLEL_MIN_NEURONS_PER_THREAD = 8192
# ... and without plasticity (the lockstep kernel: one parallel region per chunk and one
# spin barrier, about 0.2 us, per step) from this many (CUBA 4k on 2 cores, quiet machine:
# 1.45 us per step instead of 1.9)
LOCKSTEP_MIN_NEURONS_PER_THREAD = 1500
# with threads, the path (parallel or serial) is chosen per chunk by measured speed (see
# _pick_path): every _PROBE_EVERY-th chunk probes the slower path for about _PROBE_SECONDS
# (at least _PROBE_MIN_STEPS steps, at most an eighth of the chunk), and a path measured for
# less than half of _SHORT_PROBE_SECONDS is probed for _SHORT_PROBE_SECONDS at once. The
# parallel kernels synchronize every step: when other processes hold a core, each barrier
# waits for a time slice (measured under load 5 on 2 cores: 30 ms per step instead of 60 us)
_PROBE_EVERY = 3
_PROBE_SECONDS = 0.01
_SHORT_PROBE_SECONDS = 0.002
_PROBE_MIN_STEPS = 16
# a neuron update as a fraction of a synaptic event's work (CUBA, vectorized update against
# a scattered add): weighs the work of a chunk for comparing the paths' speeds
_UPDATE_WORK = 1 / 16
# the lockstep kernel stops early after two windows in a row (at least 32 steps, about this
# many seconds of the serial kernel each) that were slower than the serial kernel (other
# processes hold a core); the serial path then runs 1, 2, 4 .. _MAX_BACKOFF chunks
# (doubling while contention lasts) before the parallel path is probed again
_CONTENTION_WINDOW_S = 0.001
_MAX_BACKOFF = 16
# the lockstep kernel is given up after this many calls in a row whose threads did not run
# at the same time (each such call costs about 10 ms of waiting, then runs the old kernel)
_LOCKSTEP_MAX_MISSES = 3
ADAPTIVE_PATH = True  # False: threads > 1 always use the parallel kernels (tests)
_DTYPES = {"float64": np.float64, "float32": np.float32}


class Simulator:
    """Event-driven simulation of a :class:`snn.Network` on the CPU (numba).

    ``mode="float"``: exact integration in ``dtype`` (float64, or float32 for speed).
    ``mode="fixed"``: the core's integer arithmetic (docs/core-arithmetic.md), bit for bit;
    ``quantized`` defaults to ``snn.quantize(network, spec or CoreSpec(), require_fit=False)``.

    The network is built (and Poisson inputs drawn) from its seed when the simulator is
    created, so the same network and seed give identical results on every run, in both
    modes, for any chunking of ``run`` calls. ``spike_populations`` overrides which
    populations' spikes are recorded (default: ``network.recordings.spikes``).
    ``inputs``: ``{source name: (steps, n) 0/1 array}`` replaces those spike sources' spikes
    for this simulator (the others keep theirs; :mod:`snn.sim.inputs`).
    ``threads``: numba threads for the neuron update and propagation (at most
    ``numba.config.NUMBA_NUM_THREADS`` run at once); results are identical for any value.
    Without plasticity the threads run whole chunks in lockstep (one parallel region per
    chunk, one spin barrier per step; kernels_common.py); with plasticity two parallel
    regions per step. Networks with fewer than ``LOCKSTEP_MIN_NEURONS_PER_THREAD`` (without
    plasticity) or ``PARALLEL_MIN_NEURONS_PER_THREAD`` (with) neurons per thread run on one
    thread (``Simulator.parallel`` says which), and the serial kernels take over while they
    are faster (another process holding a core).
    """

    def __init__(
        self,
        network: Network,
        mode: str = "float",
        *,
        dtype: str = "float64",
        spec: CoreSpec | None = None,
        quantized: QuantizedNetwork | None = None,
        threads: int = 1,
        progress: bool | None = None,
        spike_populations: Sequence[str] | None = None,
        inputs: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        if mode not in ("float", "fixed"):
            raise NetworkError(f"simulator: mode must be 'float' or 'fixed', got {mode!r}")
        if dtype not in _DTYPES:
            raise NetworkError(f"simulator: dtype must be 'float64' or 'float32', got {dtype!r}")
        if mode == "fixed" and dtype != "float64":
            raise NetworkError("simulator: dtype applies to float mode only; fixed mode is int64")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise NetworkError(f"simulator: threads must be an integer >= 1, got {threads!r}")
        kernel_cache.refresh_once()  # before numba loads a kernel from its cache
        if quantized is not None:
            built: BuiltNetwork = quantized.built
        else:  # weights at the run's dtype from the start: no float64 copy of them is held
            check_memory(network)
            built = build(
                network, weight_dtype=np.float32 if (mode, dtype) == ("float", "float32") else np.float64
            )
        if mode == "fixed" and quantized is None:
            quantized = quantize(built, spec or CoreSpec(), require_fit=False)
        self.network = network
        self.mode = mode
        self.dtype = dtype
        self.threads = threads
        self.progress = progress
        if inputs is not None:  # run-time spikes of named sources (snn/sim/inputs.py)
            built = with_inputs(built, inputs)
        self.built = built
        self.quantized = quantized if mode == "fixed" else None
        n_rules = len(built.rules)
        min_per_thread = PARALLEL_MIN_NEURONS_PER_THREAD
        if n_rules == 0:  # the lockstep kernel applies
            min_per_thread = min(min_per_thread, LOCKSTEP_MIN_NEURONS_PER_THREAD)
        self.parallel = threads > 1 and built.n_neurons >= threads * min_per_thread
        self.syn = synapse_layout(built, threads if self.parallel else 1)
        n, n_pre = built.n_neurons, built.n_neurons + built.n_sources
        if mode == "float":
            self._prepare_float(_DTYPES[dtype])
        else:
            self._prepare_fixed(quantized)
        sdt = self._state_dtype
        self.i_e = np.zeros(n, sdt)
        self.i_i = np.zeros(n, sdt)
        self.ref = np.zeros(n, self._ref_dtype)
        # spike flags, padded to whole words: collect_spikes skips 8 silent neurons at a time
        self._flag_words = np.zeros((n + 7) // 8, np.uint64)
        self._flag = self._flag_words.view(np.uint8)
        # lockstep (threads, no plasticity): one parallel region per chunk, one barrier per step
        n_workers = min(threads, numba.config.NUMBA_NUM_THREADS, self.syn.n_parts)
        self._lockstep = self.parallel and n_workers >= 2 and n_rules == 0
        self._n_workers = n_workers
        if self.parallel:  # each part's neurons in blocks of their own
            self._blocks, part_block = split_blocks(self._blocks, self.syn.cuts)
            self._wpart = np.array(
                [w * self.syn.n_parts // n_workers for w in range(n_workers + 1)], np.int64
            )
            self._wblock = part_block[self._wpart]
            widest = int(np.max(np.diff(self.syn.cuts[self._wpart]))) if n else 0
            self._tspk = np.zeros((2, n_workers, max(widest, 1)), np.int64)
            self._tcnt = np.zeros((2, n_workers, sync.LINE), np.int64)
        self._lockstep_misses = 0  # calls in a row whose workers did not run together
        self.lockstep_calls = 0  # kernel calls that ran in lockstep
        self._contended = False  # the last lockstep call stopped early: slower than one thread
        self._backoff = 0  # serial chunks before the parallel path is probed again
        self._backoff_len = 1  # ... after the next contention
        self._ticks_per_s = sync.ticks_per_second() if self._lockstep else 0.0
        self._counts = np.zeros(self._blocks.shape[0], np.int64)
        # float mode, all delays 1: no ring, propagation adds into i_e/i_i (kernels_float.py);
        # the fixed mode keeps its accumulators (the doc saturates i + sum, not each term)
        self._ring = 1 if mode == "float" and built.max_delay == 1 else self.syn.ring
        if self._ring == 1:
            self.acc_e, self.acc_i = self.i_e, self.i_i
        else:
            self.acc_e = np.zeros(self._ring * n, sdt)
            self.acc_i = np.zeros(self._ring * n, sdt)
        self.x = np.zeros((n_rules, n_pre), sdt)
        self.y = np.zeros((n_rules, n), sdt)
        self._spikes = np.zeros(max(n_pre, 1), np.int64)
        spike_pops = network.recordings.spikes if spike_populations is None else spike_populations
        self.monitors = Monitors(built, network.recordings, spike_pops, sdt)
        self._weight_probes = {wp.projection: wp.every for wp in network.recordings.weights}
        self._proj_layout_pos = {
            name: self.syn.positions(built.positions(name)) for name in self._weight_probes
        }
        self._snapshots: dict[str, list[np.ndarray]] = {name: [] for name in self._weight_probes}
        self._snapshot_steps: dict[str, list[int]] = {name: [] for name in self._weight_probes}
        self.step = 0
        self._use_parallel = self.parallel
        # last (seconds per unit of work, seconds, seconds per step) of each path (threads)
        self._step_s: dict[bool, list[tuple[float, float, float]]] = {}
        self._n_chunks = 0
        self.compile_s: float | None = None
        self.run_s = 0.0
        self.n_events = 0
        self._chunk = 64
        self._snapshot(periodic_only=True)

    # -- preparation -------------------------------------------------------------------------
    def _prepare_float(self, dt_) -> None:
        b = self.built
        p = b.params
        prop = propagators(b.dt, p["tau_m"], p["tau_syn_e"], p["tau_syn_i"])
        # the columns of the parameter table, one at a time (no (n, 9) table is held)
        columns = [lambda: p["v_rest"] + p["i_bias"], p["v_thresh"], p["v_reset"], lambda: 1.0 - prop["k_m"],
                   prop["a_e"], prop["a_i"], prop["p_e"], prop["p_i"]]  # fmt: skip
        ref_steps = np.floor(p["t_ref"] / b.dt + 0.5).astype(np.int64)  # round half up, as quantize
        self._blocks, first = segments([*columns, ref_steps])
        self._seg_par = np.stack([(c() if callable(c) else c)[first] for c in columns], axis=1).astype(dt_)
        self._seg_par = np.ascontiguousarray(self._seg_par.reshape(first.size, kernels_float.N_PARAM_COLS))
        self._aux = ref_steps[first]
        self._state_dtype = dt_
        # the narrowest counter that holds R: fewer bytes streamed, more vector lanes
        self._ref_dtype = np.int16 if ref_steps.size == 0 or ref_steps.max() < 2**15 else np.int32
        self.v = p["v_init"].astype(dt_)
        # without plasticity the kernels only read the weights: the layout shares the built array
        self.weight = self.syn.to_layout(b.syn_weight, dt_, share=not b.rules)
        self._rules = float_rule_table(b, dt_)
        self._kernel = kernels_float.run_chunk
        self._kernel_lockstep = kernels_float.run_chunk_lockstep

    def _prepare_fixed(self, q: QuantizedNetwork) -> None:
        s = q.spec
        table = (
            np.stack([q.v_inf, q.v_thresh, q.v_reset, q.ref_steps, q.k_m, q.a_e, q.a_i, q.p_e, q.p_i], axis=1)
            .reshape(self.built.n_neurons, kernels_fixed.N_PARAM_COLS)
            .astype(np.int64)
        )
        self._blocks, first = segments(table)
        self._seg_par = np.ascontiguousarray(table[first])
        self._ref_dtype = np.int64
        consts = np.zeros(kernels_fixed.N_CONSTS, np.int64)
        consts[kernels_fixed.C_BITS] = s.coef_bits
        consts[kernels_fixed.V_LO], consts[kernels_fixed.V_HI] = s.v_range
        consts[kernels_fixed.I_LO], consts[kernels_fixed.I_HI] = s.i_range
        consts[kernels_fixed.W_SHIFT] = q.weight_shift
        consts[kernels_fixed.STDP_SHIFT] = s.stdp_frac_bits + s.trace_frac_bits
        consts[kernels_fixed.TRACE_MAX] = s.trace_max
        self._aux = consts
        self._state_dtype = np.int64
        self.v = q.v_init.astype(np.int64)
        self.weight = self.syn.to_layout(q.weight, np.int32)
        self._rules = fixed_rule_table(q.rules)
        self._kernel = kernels_fixed.run_chunk
        self._kernel_lockstep = kernels_fixed.run_chunk_lockstep

    # -- running -----------------------------------------------------------------------------
    def _groups(self) -> tuple[Params, State, Synapses, Plasticity]:
        """The kernels' arguments that persist between calls, grouped by concern (kernels_common)."""
        syn = self.syn
        return (
            Params(blocks=self._blocks, seg_par=self._seg_par, aux=self._aux),
            State(v=self.v, i_e=self.i_e, i_i=self.i_i, ref=self.ref, acc_e=self.acc_e, acc_i=self.acc_i,
                  ring=self._ring, flag=self._flag, flag_words=self._flag_words, counts=self._counts,
                  spikes=self._spikes),
            Synapses(bounds=syn.bounds, post=syn.post, weight=self.weight, delay=syn.delay,
                     uniform_delay=syn.uniform_delay),
            Plasticity(rules=self._rules, x=self.x, y=self.y, pre_ptr=syn.pre_ptr, pre_pos=syn.pre_pos,
                       pre_rule=syn.pre_rule, post_ptr=syn.post_ptr, post_pos=syn.post_pos, post_pre=syn.post_pre,
                       post_rule=syn.post_rule),
        )  # fmt: skip

    def _call(self, n0: int, m: int) -> tuple[int, int, int]:
        """One kernel call: ``(steps_done, spike_count, events)``."""
        par, st, syn, pl = self._groups()
        inp = Inputs(ptr=self.built.input_ptr, ids=self.built.input_ids)
        mon = self.monitors.chunk_args(n0, m)
        if self._use_parallel and self._lockstep:
            w = self._n_workers
            res = np.zeros(w * sync.LINE, np.int64)
            serial = self._step_s.get(False)
            limit, window = 0, 1  # ticks for a window of steps: slower than one thread (contention) stops
            if ADAPTIVE_PATH and serial and self._ticks_per_s > 0:
                serial_step = min(t for _, _, t in serial)
                window = max(32, int(_CONTENTION_WINDOW_S / serial_step))
                limit = int(window * serial_step * self._ticks_per_s)
            team = Team(n_workers=w, sync=sync.sync_array(w, limit, window), wpart=self._wpart, cuts=self.syn.cuts,
                        wblock=self._wblock, tspk=self._tspk, tcnt=self._tcnt, res=res)  # fmt: skip
            self._kernel_lockstep(n0, m, team, par, st, syn, inp, mon)
            status = res[LS_STATUS :: sync.LINE]
            if np.all(status == LS_RAN):
                self._lockstep_misses = 0
                self.lockstep_calls += 1
                if res[LS_CONTENDED]:  # serial until the next probe of the parallel path
                    self._contended = True
                return int(res[LS_DONE]), int(res[LS_COUNT]), int(res[LS_EVENTS :: sync.LINE].sum())
            if np.any(status == LS_TIMEOUT):
                raise RuntimeError("simulator: a thread of the lockstep kernel stopped responding")
            # the workers ran one after the other (nothing was changed): this chunk runs
            # on the two-region parallel kernel, and after a few misses it stays there
            self._lockstep_misses += 1
            if self._lockstep_misses >= _LOCKSTEP_MAX_MISSES:
                self._lockstep = False
        return self._kernel(n0, m, self._use_parallel, par, st, syn, inp, pl, mon)

    def synapse_bytes(self) -> int:
        """Bytes of the per-synapse arrays the kernels read: post index, weight, delays, plastic indices."""
        syn = self.syn
        arrays = (syn.post, self.weight, syn.delay, syn.pre_pos, syn.pre_rule, syn.post_pos, syn.post_pre,
                  syn.post_rule)  # fmt: skip
        return int(sum(a.nbytes for a in arrays))

    def _compile(self) -> None:
        """Compile (or load from numba's cache) with a zero-step call; its time is ``compile_s``."""
        t0 = time.perf_counter()
        use, self._use_parallel = self._use_parallel, False
        self._call(self.step, 0)
        self._use_parallel = use
        if self._lockstep:
            use, self._use_parallel = self._use_parallel, True
            self._call(self.step, 0)
            self._use_parallel = use
        self.compile_s = time.perf_counter() - t0

    def run(self, n_steps: int, inputs: Mapping[str, np.ndarray] | None = None) -> None:
        """Advance ``n_steps`` timesteps (continues where the previous call stopped).

        Inputs exist for the network's ``duration``; steps beyond it get no input spikes.
        ``inputs``: ``{source name: (n_steps, n) 0/1 array}``, those sources' spikes for
        these steps (streamed input; :mod:`snn.sim.inputs`).
        """
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise NetworkError(f"simulator: n_steps must be an integer >= 0, got {n_steps!r}")
        if inputs is not None:
            steps = input_steps(inputs)
            if steps is not None and steps != n_steps:
                raise NetworkError(f"simulator: inputs hold {steps} steps for a run of {n_steps}")
            self.built = with_inputs(self.built, inputs, self.step, window=True)
        previous_threads = numba.get_num_threads()
        numba.set_num_threads(min(self.threads if self.parallel else 1, numba.config.NUMBA_NUM_THREADS))
        try:
            self._run(int(n_steps))
        finally:
            numba.set_num_threads(previous_threads)

    def _run(self, n_steps: int) -> None:
        if self.compile_s is None:
            self._compile()
        target = self.step + n_steps
        bar = RunProgress(n_steps, self.progress)
        start = self.step
        try:
            while self.step < target:
                m = min(self._chunk, target - self.step)
                for every in self._weight_probes.values():
                    if every > 0:
                        m = min(m, every - self.step % every)
                if self.parallel and ADAPTIVE_PATH:
                    m = self._pick_path(m)
                n0 = self.step
                t0 = time.perf_counter()
                done, count, events = self._call(n0, m)
                elapsed = time.perf_counter() - t0
                if self.parallel and done:
                    # speed per unit of work (synaptic events and neuron updates), so that
                    # chunks of a network's onset (bursts) and of its steady state compare
                    work = events + done * self.built.n_neurons * _UPDATE_WORK
                    times = self._step_s.setdefault(self._use_parallel, [])
                    times[:] = [*times[-1:], (elapsed / max(work, 1.0), elapsed, elapsed / done)]
                    if self._contended:  # slower than one thread: other processes hold a core:
                        # serial for 1, 2, 4 .. 16 chunks (doubling while it lasts), then a probe
                        times[:] = [(float("inf"), float("inf"), float("inf"))]
                        self._contended = False
                        self._backoff = self._backoff_len
                        self._backoff_len = min(2 * self._backoff_len, _MAX_BACKOFF)
                    elif self._use_parallel and done == self._chunk:
                        self._backoff_len = 1
                self.monitors.collect(n0, done, count)
                self.step += done
                self.run_s += elapsed
                self.n_events += events
                self._snapshot(periodic_only=True)
                if done == m and m == self._chunk:  # aim each call at about _CHUNK_SECONDS
                    scale = _CHUNK_SECONDS / max(elapsed, 1e-6)
                    self._chunk = int(min(max(m * min(scale, 4.0), 1), 1 << 20))
                bar.update(self.step - start)
        finally:
            bar.close()

    def _pick_path(self, m: int) -> int:
        """Choose parallel or serial kernels for the next chunk; returns its (maybe shortened) length.

        Both paths give identical results (the layout is the same), so switching between
        chunks is safe; only speed is at stake. A path's speed is the better of its last
        two measurements (a probe that another process stalled does not decide alone).
        The slower path is probed (about ``_PROBE_SECONDS``, at least ``_PROBE_MIN_STEPS``
        steps, at most a chunk) every ``_PROBE_EVERY`` chunks, and at once for
        ``_SHORT_PROBE_SECONDS`` while its measurements are shorter than half that: the first
        chunks alternate the paths while the chunk grows (a few steps are dominated by call
        overhead and the network's onset).
        """
        self._n_chunks += 1
        inf = float("inf")
        meas = self._step_s
        speed = {path: min(t for t, _, _ in v) for path, v in meas.items()}
        if not speed:
            return m
        seconds = _SHORT_PROBE_SECONDS  # a first or short measurement: just enough to count
        if len(speed) == 1:
            probe = not next(iter(speed))
        else:
            best = speed[True] <= speed[False]
            probe = not best
            if speed[True] == inf:  # contended: serial chunks, then a short probe
                if self._backoff > 0:
                    self._backoff -= 1
                    self._use_parallel = False
                    return m
                meas[True][-1] = (inf, 0.0, inf)  # weak: a probe follows
            weak = max(s for _, s, _ in meas[probe]) < _SHORT_PROBE_SECONDS / 2
            if not weak:
                if self._n_chunks % _PROBE_EVERY:
                    self._use_parallel = best
                    return m
                seconds = _PROBE_SECONDS
                m = max(m // 8, 1)  # a periodic probe: a fraction of a chunk
        self._use_parallel = probe
        steps_s = {path: min(t for _, _, t in v) for path, v in meas.items()}
        per_step = steps_s.get(probe, inf)  # its own speed when known, else the other's
        if per_step == inf:
            per_step = min(steps_s.values())
        steps = int(seconds / max(per_step, 1e-9)) if per_step < inf else _PROBE_MIN_STEPS
        return max(1, min(m, max(_PROBE_MIN_STEPS, steps)))

    def _snapshot(self, periodic_only: bool) -> None:
        for name, every in self._weight_probes.items():
            steps = self._snapshot_steps[name]
            due = (every > 0 and self.step % every == 0) if periodic_only else True
            if due and (not steps or steps[-1] != self.step):
                self._snapshots[name].append(self.weight[self._proj_layout_pos[name]].copy())
                steps.append(self.step)

    # -- inspection --------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, np.ndarray]:
        """Copies of the state: ``v``, ``i_e``, ``i_i``, ``ref``, traces ``x``/``y``, ``weight`` (CSR order).

        Float mode: mV in the simulation dtype; fixed mode: int64 LSBs.
        """
        out_dtype = np.int64 if self.mode == "fixed" else self._state_dtype
        return {
            "v": self.v.astype(out_dtype),
            "i_e": self.i_e.astype(out_dtype),
            "i_i": self.i_i.astype(out_dtype),
            "ref": self.ref.copy(),
            "x": self.x.astype(out_dtype),
            "y": self.y.astype(out_dtype),
            "weight": self.syn.to_csr(self.weight, out_dtype),
        }

    def results(self) -> Results:
        """Everything recorded so far, as a :class:`Results`."""
        b, mon = self.built, self.monitors
        self._snapshot(periodic_only=False)
        res = Results(mode=self.mode, dt=b.dt, n_steps=self.step, compile_s=self.compile_s or 0.0,
                      run_s=self.run_s, n_events=int(self.n_events), n_neurons=b.n_neurons,
                      n_synapses=b.n_synapses)  # fmt: skip
        to_mV = self.quantized.to_mV if self.quantized is not None else (lambda a: np.asarray(a, np.float64))
        for name, (steps, ids) in mon.spikes().items():
            res.spikes[name] = SpikeTrains(steps, ids, b.dt)
        counts = mon.counts()
        for p, name in enumerate(mon.lif_names):
            n = b.lif_slices[name].stop - b.lif_slices[name].start
            res.population_sizes[name] = n
            res.spike_counts[name] = int(counts[:, p].sum())
            if name in mon.rate_populations:
                res.rates[name] = counts[:, p] / (n * b.dt / 1000.0)
        res.n_spikes = int(counts.sum())
        for pop, (variables, neurons, steps, samples) in mon.state().items():
            res.state_times[pop] = (steps + 1) * b.dt
            res.state_neurons[pop] = neurons
            res.state[pop] = {}
            for var in variables:
                col = samples[:, ("v", "i_e", "i_i").index(var), :]
                res.state[pop][var] = to_mV(col)
                if self.mode == "fixed":
                    res.state_raw.setdefault(pop, {})[var] = col.astype(np.int64)
        w_to_mV = (
            self.quantized.weights_mV if self.quantized is not None else (lambda a: np.asarray(a, np.float64))
        )
        for name in self._weight_probes:
            proj = self.network.projections[name]
            raw = self.weight[self._proj_layout_pos[name]]
            res.weights[name] = w_to_mV(raw)
            snaps = np.array(self._snapshots[name]).reshape(len(self._snapshots[name]), raw.size)
            res.weight_snapshots[name] = w_to_mV(snaps)
            res.weight_snapshot_steps[name] = np.array(self._snapshot_steps[name], np.int64)
            if self.mode == "fixed":
                res.weights_raw[name] = raw.astype(np.int64)
            res.weight_pairs[name] = np.stack(b.projection_pairs(name)).astype(np.int64)
            res.weight_shapes[name] = (b.network.population(proj.pre).n, b.network.population(proj.post).n)
        return res


def simulate(network: Network, mode: str = "float", duration: float | None = None, **kwargs) -> Results:
    """Build, run for ``duration`` ms (default ``network.duration``) and return the :class:`Results`.

    Keyword arguments go to :class:`Simulator`. If the network records no spikes at all,
    the spikes of every LIF group are recorded. Same network and seed: identical results.
    """
    steps = input_steps(kwargs.get("inputs"))
    if duration is None and steps is not None:  # run as long as the given inputs
        duration = steps * network.dt
    if duration is not None and duration != network.duration:
        network = dataclasses.replace(network, duration=duration)
    if "spike_populations" not in kwargs and not network.recordings.spikes:
        kwargs["spike_populations"] = [g.name for g in network.lif_groups]
    sim = Simulator(network, mode, **kwargs)
    sim.run(network.n_steps)
    return sim.results()
