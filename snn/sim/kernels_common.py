"""Phases and monitors that the float and the fixed kernels share (numba, type-generic).

Each function compiles once per array dtype: float64/float32 weights and accumulators in
float mode, int32 weights into int64 accumulators in fixed mode. Propagation is the
same integer-exact or float addition in both modes; only the neuron update and the
STDP arithmetic differ (kernels_float.py, kernels_fixed.py).

Indices in the hot loops are cast to ``uint64``: numba then omits its negative-index
wrap-around code, which otherwise keeps LLVM from vectorizing the neuron update (10x).

Threads: the neuron update runs its blocks in a ``prange`` (each kernel module has its
own serial and parallel block loop: numba cannot cache a kernel that passes the block
function around as a first-class value, and a ``prange`` costs about 1 us per call even
on one thread, too much for one call per step of a small network), and propagation
runs one part of the synapses per thread (layout.py: each part writes only its own
targets). Both give the same numbers as one thread, bit for bit: the update is per
neuron, and every target receives its inputs in the same order.

numba's on-disk cache of ``run_chunk`` and ``run_chunk_lockstep`` (kernels_float.py,
kernels_fixed.py) embeds these functions and those of sync.py and prefetch.py, but numba
invalidates it on changes to its own file only: kernel_cache.py deletes the cache when any
kernel source changed (add a new kernel module to its list).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange, uint64

from .prefetch import prefetch_rows
from .sync import publish, stop_requested, wait_all


# -- the kernels' arguments, grouped by concern ---------------------------------------------
# numba passes a NamedTuple of arrays as its members (no copy, no indirection), and caches
# kernels keyed by the tuple types like any other argument.
class Params(NamedTuple):
    """Neuron parameters, run-length encoded into segments (layout.segments)."""

    blocks: np.ndarray  # int64 (n_blocks, 3): lo, hi, segment
    seg_par: np.ndarray  # per-segment parameter table (columns: kernels_float / kernels_fixed)
    aux: np.ndarray  # float mode: refractory steps per segment; fixed mode: the constants vector


class State(NamedTuple):
    """Neuron state, accumulators and per-step scratch."""

    v: np.ndarray
    i_e: np.ndarray
    i_i: np.ndarray
    ref: np.ndarray  # refractory steps left
    acc_e: np.ndarray  # ring of ``ring`` slots of n neurons (float mode, ring 1: i_e itself)
    acc_i: np.ndarray
    ring: int
    flag: np.ndarray  # uint8 spike flags of the last update, padded to whole words
    flag_words: np.ndarray  # uint64 view of ``flag``
    counts: np.ndarray  # spikes per block of the last update
    spikes: np.ndarray  # presynaptic elements that fired this step (neurons, then sources)


class Synapses(NamedTuple):
    """Connectivity in the layout's order (layout.SynapseLayout)."""

    bounds: np.ndarray  # (n_pre, 2 * n_parts + 1): pieces of each row
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray  # per synapse, or empty when uniform
    uniform_delay: int  # the delay when uniform, else 0


class Inputs(NamedTuple):
    """Spike sources: ``ids[ptr[n]:ptr[n + 1]]`` fire at step n."""

    ptr: np.ndarray
    ids: np.ndarray


class Plasticity(NamedTuple):
    """STDP rules, traces and the plastic synapses' indices (layout._plastic_indices)."""

    rules: np.ndarray
    x: np.ndarray  # presynaptic traces (n_rules, n_pre)
    y: np.ndarray  # postsynaptic traces (n_rules, n)
    pre_ptr: np.ndarray
    pre_pos: np.ndarray
    pre_rule: np.ndarray
    post_ptr: np.ndarray
    post_pos: np.ndarray
    post_pre: np.ndarray
    post_rule: np.ndarray


class Record(NamedTuple):
    """Monitors' buffers for one call (monitors.Monitors.chunk_args)."""

    rec_mask: np.ndarray  # uint8 per presynaptic element: record its spikes
    n_rec: int  # elements recorded (a step adds at most this many spikes)
    out_steps: np.ndarray
    out_ids: np.ndarray
    count: int  # spikes in the buffers before this call
    pop_of: np.ndarray  # LIF group of each neuron
    pop_counts: np.ndarray  # (m, groups) spikes per step of the call
    samp_idx: np.ndarray  # state probes (see sample_state)
    probe_ptr: np.ndarray
    probe_every: np.ndarray
    probe_base: np.ndarray
    probe_first: np.ndarray
    out_v: np.ndarray
    out_ie: np.ndarray
    out_ii: np.ndarray


class Team(NamedTuple):
    """The lockstep kernel's workers (see "lockstep" below)."""

    n_workers: int
    sync: np.ndarray  # sync.sync_array
    wpart: np.ndarray  # worker w owns parts wpart[w]:wpart[w + 1]
    cuts: np.ndarray  # part t targets neurons cuts[t]:cuts[t + 1]
    wblock: np.ndarray  # ... and blocks wblock[w]:wblock[w + 1]
    tspk: np.ndarray  # (2, n_workers, widest): each worker's spikes, by step parity
    tcnt: np.ndarray  # (2, n_workers, LINE): their number and how many are recorded
    res: np.ndarray  # per-worker results, row w * LINE (LS_DONE ...)


@njit(cache=True)
def collect_spikes(blocks, counts, flag, flag_words, spikes):
    """The neurons flagged by the update, in index order, into ``spikes``; returns their number.

    Only blocks with a spike are looked at, 32 flags at a time (``flag_words`` is a uint64
    view of ``flag``), only the bytes of a nonzero word are tested, and a block is left as
    soon as its ``counts`` spikes are found (most blocks hold one or two).
    """
    return collect_spikes_range(blocks, 0, blocks.shape[0], counts, flag, flag_words, spikes)


@njit(cache=True)
def collect_spikes_range(blocks, b_lo, b_hi, counts, flag, flag_words, spikes):
    """:func:`collect_spikes` of blocks ``b_lo:b_hi``."""
    n_spk = 0
    for b in range(b_lo, b_hi):
        left = counts[b]
        lo, hi = blocks[b, 0], blocks[b, 1]
        w, w_end = lo >> 3, (hi + 7) >> 3
        while left > 0 and w < w_end:
            if w + 4 <= w_end:
                u = uint64(w)
                if flag_words[u] | flag_words[u + 1] | flag_words[u + 2] | flag_words[u + 3] == 0:
                    w += 4
                    continue
            if flag_words[uint64(w)] != 0:
                for jj in range(max(w << 3, lo), min((w << 3) + 8, hi)):
                    if flag[uint64(jj)] != 0:
                        spikes[n_spk] = jj
                        n_spk += 1
                        left -= 1
            w += 1
    return n_spk


@njit(cache=True)
def add_inputs(n, inp, n_neurons, spikes, n_spk):
    """Phase 3: the spike sources firing at step ``n`` (:class:`Inputs`) join the presynaptic spikes."""
    if n + 1 < inp.ptr.size:
        for q in range(inp.ptr[n], inp.ptr[n + 1]):
            spikes[n_spk] = n_neurons + inp.ids[q]
            n_spk += 1
    return n_spk


@njit(cache=True)
def propagate_part(n, t, spikes, n_spk, offset, syn, st):
    """Phase 4 for part ``t`` of the targets: scatter the weights of the presynaptic elements
    ``spikes[:n_spk] + offset`` (:class:`Synapses` ``syn``) into the slots due at n + d.

    ``st.acc_e``/``st.acc_i`` are flat rings of ``st.ring`` slots of n neurons (with ring 1
    they may be ``i_e``/``i_i`` themselves: float mode delivers delay-1 inputs directly).
    """
    bounds, post, weight, delay, uniform_delay = syn
    acc_e, acc_i, ring, n_neurons = st.acc_e, st.acc_i, st.ring, st.v.size
    prefetch_rows(bounds, 2 * t, 2 * t + 2, spikes, n_spk, offset, post, weight)
    for s in range(n_spk):
        k = spikes[s] + offset
        lo, mid, hi = bounds[k, 2 * t], bounds[k, 2 * t + 1], bounds[k, 2 * t + 2]
        if uniform_delay > 0:
            base = ((n + uniform_delay) % ring) * n_neurons
            for q in range(lo, mid):
                acc_e[uint64(base + post[q])] += weight[q]
            for q in range(mid, hi):
                acc_i[uint64(base + post[q])] += weight[q]
        else:
            for q in range(lo, mid):
                acc_e[uint64(((n + delay[q]) % ring) * n_neurons + post[q])] += weight[q]
            for q in range(mid, hi):
                acc_i[uint64(((n + delay[q]) % ring) * n_neurons + post[q])] += weight[q]


@njit(cache=True, parallel=True)
def _propagate_parallel(n, n_spk, syn, st):
    for t in prange((syn.bounds.shape[1] - 1) // 2):
        propagate_part(n, t, st.spikes, n_spk, 0, syn, st)


@njit(cache=True)
def propagate(n, n_spk, syn, st, parallel):
    """Phase 4 of ``st.spikes[:n_spk]`` (all parts, one per thread when ``parallel``).
    Returns the number of synaptic events."""
    bounds, spikes = syn.bounds, st.spikes
    if parallel:
        _propagate_parallel(n, n_spk, syn, st)
    else:
        for t in range((bounds.shape[1] - 1) // 2):
            propagate_part(n, t, spikes, n_spk, 0, syn, st)
    events = 0
    last = bounds.shape[1] - 1
    for s in range(n_spk):
        events += bounds[spikes[s], last] - bounds[spikes[s], 0]
    return events


@njit(cache=True)
def record_spikes(n, n0, spikes, n_spk, n_spk_neurons, mon, count):
    """Monitors (:class:`Record`): append recorded spikes of step ``n`` after the first
    ``count``; count neuron spikes per population. Returns the new count."""
    rec_mask, out_steps, out_ids = mon.rec_mask, mon.out_steps, mon.out_ids
    pop_of, pop_counts = mon.pop_of, mon.pop_counts
    for s in range(n_spk):
        k = spikes[s]
        if rec_mask[k]:
            out_steps[count] = n
            out_ids[count] = k
            count += 1
    for s in range(n_spk_neurons):
        pop_counts[n - n0, pop_of[spikes[s]]] += 1
    return count


@njit(cache=True)
def sample_state(n, st, mon):
    """Monitors: write v, i_e, i_i of each probe's neurons when ``n`` is a multiple of its period.

    Probe ``p`` writes row ``n // every - probe_first[p]`` of its block, which starts at
    ``probe_base[p]`` in the flat outputs and is ``probe_ptr[p+1] - probe_ptr[p]`` wide.
    """
    sample_state_range(n, 0, st.v.size, st, mon)


@njit(cache=True)
def sample_state_range(n, j_lo, j_hi, st, mon):
    """:func:`sample_state` of the neurons ``j_lo <= j < j_hi`` only."""
    probe_every = mon.probe_every
    for p in range(probe_every.size):
        every = probe_every[p]
        if n % every != 0:
            continue
        probe_ptr, samp_idx, out_v, out_ie, out_ii = (
            mon.probe_ptr,
            mon.samp_idx,
            mon.out_v,
            mon.out_ie,
            mon.out_ii,
        )
        v, i_e, i_i = st.v, st.i_e, st.i_i
        lo, hi = probe_ptr[p], probe_ptr[p + 1]
        base = mon.probe_base[p] + (n // every - mon.probe_first[p]) * (hi - lo)
        for q in range(lo, hi):
            j = samp_idx[q]
            if j_lo <= j < j_hi:
                out_v[base + q - lo] = v[j]
                out_ie[base + q - lo] = i_e[j]
                out_ii[base + q - lo] = i_i[j]


# -- lockstep: one parallel region per chunk ------------------------------------------------
# Each worker w owns the neurons of parts wpart[w]:wpart[w+1] (blocks wblock[w]:wblock[w+1])
# and the synapses onto them. Per step it updates its neurons, lists their spikes in its
# own list (double-buffered by step parity), publishes the step, waits for all workers'
# lists (one barrier per step) and propagates every list, in worker order, then the
# inputs, into its own targets: the same spikes in the same order as one thread.
# A worker reuses a list two steps later, by when every worker has read it (they have
# all published the step in between). Worker 0 records the spikes; every worker keeps
# the same spike count, so they all stop at the same step when the buffer could overflow.
LS_DONE, LS_COUNT, LS_EVENTS, LS_STATUS, LS_CONTENDED = range(5)  # per-worker results, row w * sync.LINE
LS_RAN, LS_NOT_TOGETHER, LS_TIMEOUT = 1, 2, 3


@njit(cache=True)
def lockstep_after_update(w, i, n, n0, team, blocks, st, syn, inp, mon, count):
    """Worker ``w``'s step ``n`` (the ``i``-th of the call) after its neuron update: spikes,
    state samples, barrier, propagation, recording (``count``: spikes recorded so far).
    Returns ``(count, events, stop)``, count -1 on timeout; ``stop``: all workers stop after
    this step (contention, see sync.publish).
    """
    n_workers, sync, wpart, cuts, wblock, tspk, tcnt, _ = team
    rec_mask, bounds = mon.rec_mask, syn.bounds
    n_neurons = st.v.size
    par = n & 1
    own = tspk[par, w]
    n_own = collect_spikes_range(blocks, wblock[w], wblock[w + 1], st.counts, st.flag, st.flag_words, own)
    n_rec_own = 0
    for s in range(n_own):
        n_rec_own += rec_mask[own[s]]
    tcnt[par, w, 0] = n_own
    tcnt[par, w, 1] = n_rec_own
    sample_state_range(n, cuts[wpart[w]], cuts[wpart[w + 1]], st, mon)
    publish(sync, w, i + 1)
    # ask for this worker's pieces of its own spikes' rows while the others finish
    prefetch_rows(bounds, 2 * wpart[w], 2 * wpart[w + 1], own, n_own, 0, syn.post, syn.weight)
    if not wait_all(sync, n_workers, i + 1):
        return -1, 0, True
    stop = stop_requested(sync, i + 1)
    p_lo, p_hi = wpart[w], wpart[w + 1]
    events = 0
    n_rec = 0
    for u in range(n_workers):
        lst = tspk[par, u]
        c = tcnt[par, u, 0]
        n_rec += tcnt[par, u, 1]
        for p in range(p_lo, p_hi):
            propagate_part(n, p, lst, c, 0, syn, st)
        for s in range(c):
            events += bounds[lst[s], 2 * p_hi] - bounds[lst[s], 2 * p_lo]
    q_lo, q_hi = 0, 0
    if n + 1 < inp.ptr.size:
        q_lo, q_hi = inp.ptr[n], inp.ptr[n + 1]
    inputs = inp.ids[q_lo:q_hi]
    for p in range(p_lo, p_hi):
        propagate_part(n, p, inputs, q_hi - q_lo, n_neurons, syn, st)
    for s in range(q_hi - q_lo):
        k = n_neurons + inputs[s]
        events += bounds[k, 2 * p_hi] - bounds[k, 2 * p_lo]
        n_rec += rec_mask[k]
    if w == 0:
        c0 = count
        for u in range(n_workers):
            c = tcnt[par, u, 0]
            c0 = record_spikes(n, n0, tspk[par, u], c, c, mon, c0)
        for s in range(q_hi - q_lo):
            k = n_neurons + inputs[s]
            if rec_mask[k]:
                mon.out_steps[c0] = n
                mon.out_ids[c0] = k
                c0 += 1
    return count + n_rec, events, stop
