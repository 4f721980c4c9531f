"""Phases and monitors that the float and the fixed kernels share (numba, type-generic).

Each function compiles once per array dtype: float64/float32 weights and accumulators in
float mode, int32 weights into int64 accumulators in fixed mode. Propagation is the
same integer-exact or float addition in both modes; only the neuron update and the
STDP arithmetic differ (kernels_float.py, kernels_fixed.py).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def add_inputs(n, input_ptr, input_ids, n_neurons, spikes, n_spk):
    """Phase 3: the spike sources firing at step ``n`` join the presynaptic spikes."""
    if n + 1 < input_ptr.size:
        for q in range(input_ptr[n], input_ptr[n + 1]):
            spikes[n_spk] = n_neurons + input_ids[q]
            n_spk += 1
    return n_spk


@njit(cache=True)
def propagate(
    n, spikes, n_spk, ptr, split, post, weight, delay, uniform_delay, ring, n_neurons, acc_e, acc_i
):
    """Phase 4: scatter each spike's outgoing weights into the accumulators due at n + d.

    ``acc_e``/``acc_i`` are flat rings of ``ring`` slots of ``n_neurons``. Returns the
    number of synaptic events.
    """
    events = 0
    for s in range(n_spk):
        k = spikes[s]
        lo, mid, hi = ptr[k], split[k], ptr[k + 1]
        events += hi - lo
        if uniform_delay > 0:
            base = ((n + uniform_delay) % ring) * n_neurons
            for q in range(lo, mid):
                acc_e[base + post[q]] += weight[q]
            for q in range(mid, hi):
                acc_i[base + post[q]] += weight[q]
        else:
            for q in range(lo, mid):
                acc_e[((n + delay[q]) % ring) * n_neurons + post[q]] += weight[q]
            for q in range(mid, hi):
                acc_i[((n + delay[q]) % ring) * n_neurons + post[q]] += weight[q]
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
