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

Caution when editing: numba's on-disk cache of ``run_chunk`` (kernels_float.py,
kernels_fixed.py) embeds these functions but is only invalidated by changes to its own
file; after editing this module, delete ``snn/sim/__pycache__/*.nbi`` and ``*.nbc``.
"""

from __future__ import annotations

from numba import njit, prange, uint64


@njit(cache=True)
def collect_spikes(blocks, counts, flag, flag_words, spikes):
    """The neurons flagged by the update, in index order, into ``spikes``; returns their number.

    Only blocks with a spike are looked at, 8 flags at a time (``flag_words`` is a uint64
    view of ``flag``), and only the bytes of a nonzero word are tested.
    """
    n_spk = 0
    for b in range(blocks.shape[0]):
        if counts[b] == 0:
            continue
        lo, hi = blocks[b, 0], blocks[b, 1]
        for w in range(lo >> 3, (hi + 7) >> 3):
            if flag_words[uint64(w)] != 0:
                for jj in range(max(w << 3, lo), min((w << 3) + 8, hi)):
                    if flag[uint64(jj)] != 0:
                        spikes[n_spk] = jj
                        n_spk += 1
    return n_spk


@njit(cache=True)
def add_inputs(n, input_ptr, input_ids, n_neurons, spikes, n_spk):
    """Phase 3: the spike sources firing at step ``n`` join the presynaptic spikes."""
    if n + 1 < input_ptr.size:
        for q in range(input_ptr[n], input_ptr[n + 1]):
            spikes[n_spk] = n_neurons + input_ids[q]
            n_spk += 1
    return n_spk


@njit(cache=True)
def propagate_part(
    n, t, spikes, n_spk, bounds, post, weight, delay, uniform_delay, ring, n_neurons, acc_e, acc_i
):
    """Phase 4 for part ``t`` of the targets: scatter the spikes' weights into the slots due at n + d.

    ``acc_e``/``acc_i`` are flat rings of ``ring`` slots of ``n_neurons`` (with ``ring = 1``
    they may be ``i_e``/``i_i`` themselves: float mode delivers delay-1 inputs directly).
    """
    for s in range(n_spk):
        k = spikes[s]
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
def _propagate_parallel(
    n, spikes, n_spk, bounds, post, weight, delay, uniform_delay, ring, n_neurons, acc_e, acc_i
):
    for t in prange((bounds.shape[1] - 1) // 2):
        propagate_part(
            n, t, spikes, n_spk, bounds, post, weight, delay, uniform_delay, ring, n_neurons, acc_e, acc_i
        )


@njit(cache=True)
def propagate(
    n, spikes, n_spk, bounds, post, weight, delay, uniform_delay, ring, n_neurons, acc_e, acc_i, parallel
):
    """Phase 4 (all parts, one per thread when ``parallel``). Returns the number of synaptic events."""
    if parallel:
        _propagate_parallel(n, spikes, n_spk, bounds, post, weight, delay, uniform_delay, ring, n_neurons,
                            acc_e, acc_i)  # fmt: skip
    else:
        for t in range((bounds.shape[1] - 1) // 2):
            propagate_part(n, t, spikes, n_spk, bounds, post, weight, delay, uniform_delay, ring, n_neurons,
                           acc_e, acc_i)  # fmt: skip
    events = 0
    last = bounds.shape[1] - 1
    for s in range(n_spk):
        events += bounds[spikes[s], last] - bounds[spikes[s], 0]
    return events


@njit(cache=True)
def record_spikes(
    n, n0, spikes, n_spk, n_spk_neurons, rec_mask, out_steps, out_ids, count, pop_of, pop_counts
):
    """Monitors: append recorded spikes of step ``n``; count neuron spikes per population."""
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
def sample_state(
    n, v, i_e, i_i, samp_idx, probe_ptr, probe_every, probe_base, probe_first, out_v, out_ie, out_ii
):
    """Monitors: write v, i_e, i_i of each probe's neurons when ``n`` is a multiple of its period.

    Probe ``p`` writes row ``n // every - probe_first[p]`` of its block, which starts at
    ``probe_base[p]`` in the flat outputs and is ``probe_ptr[p+1] - probe_ptr[p]`` wide.
    """
    for p in range(probe_every.size):
        every = probe_every[p]
        if n % every != 0:
            continue
        lo, hi = probe_ptr[p], probe_ptr[p + 1]
        base = probe_base[p] + (n // every - probe_first[p]) * (hi - lo)
        for q in range(lo, hi):
            j = samp_idx[q]
            out_v[base + q - lo] = v[j]
            out_ie[base + q - lo] = i_e[j]
            out_ii[base + q - lo] = i_i[j]
