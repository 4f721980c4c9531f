"""The float kernel: exact integration in float64 or float32 (docs/core-arithmetic.md, "Float mode").

One call of :func:`run_chunk` advances ``m`` timesteps entirely in compiled code, in the
phase order of the document: delivery and neuron update (fused, one pass over the
neurons), state monitors, inputs, propagation (reading weights before plasticity), STDP,
spike monitors. Everything stays in the state dtype (float32 state, weights and
coefficients in float32 mode), so the compiler keeps float32 arithmetic.

With ``max_delay == 1`` there is no ring buffer: propagation adds straight into
``i_e``/``i_i`` after the update of step n (nothing reads them before the delivery of
step n + 1, and the state monitors sample them before propagation). This skips two
streams per neuron and step; the sum is rounded in a different order than
``i + (w1 + w2 + ...)``, which float mode does not promise to keep.
"""

from __future__ import annotations

from numba import njit, prange, uint64

from .kernels_common import (
    LS_CONTENDED,
    LS_COUNT,
    LS_DONE,
    LS_EVENTS,
    LS_NOT_TOGETHER,
    LS_RAN,
    LS_STATUS,
    LS_TIMEOUT,
    add_inputs,
    collect_spikes,
    lockstep_after_update,
    propagate,
    record_spikes,
    sample_state,
)
from .layout import (
    A_MINUS,
    A_PLUS,
    BUMP_POST,
    BUMP_PRE,
    D_POST,
    D_PRE,
    KIND,
    NEAREST,
    PAIR_MULT,
    W_MAX,
    W_MIN,
    WINDOW,
)
from .sync import LINE, arrive

# columns of the per-segment parameter table
V_INF, V_THRESH, V_RESET, E_M, A_E, A_I, P_E, P_I = range(8)
N_PARAM_COLS = 8

# traces below this are flushed to 0: denormals slow float arithmetic down by 100x, and
# a weight change of a * 1e-30 is below the resolution of any weight
_TINY = 1e-30


@njit(cache=True)
def update_block(lo, hi, s, seg_par, seg_ref, v, i_e, i_i, ref, acc_e, acc_i, slot_base, flag):
    """Phases 1-2 for neurons ``lo:hi`` of segment ``s``: deliver (unless ``slot_base < 0``:
    inputs already added to ``i``), integrate exactly, threshold. Sets ``flag``, returns the spike count.

    Written for LLVM's loop vectorizer: parameters are scalars of the segment, indices
    unsigned, and every condition is a select (no branch, no call, no append).
    """
    v_inf, v_th, v_reset = seg_par[s, V_INF], seg_par[s, V_THRESH], seg_par[s, V_RESET]
    e_m, a_e, a_i = seg_par[s, E_M], seg_par[s, A_E], seg_par[s, A_I]
    p_e, p_i = seg_par[s, P_E], seg_par[s, P_I]
    r_steps = seg_ref[s]
    deliver = slot_base >= 0  # loop-invariant: LLVM unswitches the loop on it
    n_spk = 0
    for jj in range(lo, hi):
        j = uint64(jj)
        ie, ii = i_e[j], i_i[j]
        if deliver:
            a = uint64(slot_base + jj)
            ie += acc_e[a]
            ii += acc_i[a]
            acc_e[a] = 0
            acc_i[a] = 0
        r = max(ref[j] - 1, 0)
        vj = v[j]
        vn = v_inf + (vj - v_inf) * e_m + p_e * ie + p_i * ii
        active = r == 0
        spike = active & (vn >= v_th)
        v[j] = v_reset if spike else (vn if active else vj)
        ref[j] = r_steps if spike else r
        i_e[j] = ie * a_e
        i_i[j] = ii * a_i
        flag[j] = spike
        n_spk += spike
    return n_spk


@njit(cache=True)
def update_blocks(b_lo, b_hi, par, st, slot_base):
    """:func:`update_block` of blocks ``b_lo:b_hi`` (:class:`Params` ``par``, :class:`State`
    ``st``); each block's spike count into ``st.counts``."""
    blocks, seg_par, seg_ref = par
    # members into locals first: a member read in the loop would count references per block
    v, i_e, i_i, ref, acc_e, acc_i, _, flag, _, counts, _ = st
    for b in range(b_lo, b_hi):
        counts[b] = update_block(blocks[b, 0], blocks[b, 1], blocks[b, 2], seg_par, seg_ref, v, i_e, i_i, ref, acc_e,
                                 acc_i, slot_base, flag)  # fmt: skip


@njit(cache=True, parallel=True)
def _update_parallel(par, st, slot_base):
    """All blocks over threads (a function of its own: see kernels_common)."""
    for b in prange(par.blocks.shape[0]):
        update_blocks(b, b + 1, par, st, slot_base)


@njit(cache=True)
def plasticity(spikes, n_spk, n_spk_neurons, pl, weight, post):
    """Phase 5 (:class:`Plasticity` ``pl``): decay traces, depress on pre spikes, potentiate on
    post spikes, bump traces."""
    rules, x, y, pre_ptr, pre_pos, pre_rule, post_ptr, post_pos, post_pre, post_rule = pl
    n_rules = x.shape[0]
    for r in range(n_rules):
        if int(rules[r, KIND]) == WINDOW:
            for k in range(x.shape[1]):
                x[r, k] = max(x[r, k] - 1, 0)
            for j in range(y.shape[1]):
                y[r, j] = max(y[r, j] - 1, 0)
        else:
            d_pre, d_post = rules[r, D_PRE], rules[r, D_POST]
            for k in range(x.shape[1]):
                xv = x[r, k] * d_pre
                x[r, k] = xv if xv > _TINY else 0
            for j in range(y.shape[1]):
                yv = y[r, j] * d_post
                y[r, j] = yv if yv > _TINY else 0
    for s in range(n_spk):  # depression: outgoing plastic synapses of each pre spike
        k = spikes[s]
        for q in range(pre_ptr[k], pre_ptr[k + 1]):
            pos, r = pre_pos[q], pre_rule[q]
            yv = y[r, post[pos]]
            w, w_min, kind = weight[pos], rules[r, W_MIN], int(rules[r, KIND])
            if kind == WINDOW:
                if yv > 0:
                    weight[pos] = max(w - rules[r, A_MINUS], w_min)
            elif kind == PAIR_MULT:
                weight[pos] = max(w - rules[r, A_MINUS] * yv * (w - w_min), w_min)
            else:
                weight[pos] = max(w - rules[r, A_MINUS] * yv, w_min)
    for s in range(n_spk_neurons):  # potentiation: incoming plastic synapses of each post spike
        j = spikes[s]
        for q in range(post_ptr[j], post_ptr[j + 1]):
            pos, r = post_pos[q], post_rule[q]
            xv = x[r, post_pre[q]]
            w, w_max, kind = weight[pos], rules[r, W_MAX], int(rules[r, KIND])
            if kind == WINDOW:
                if xv > 0:
                    weight[pos] = min(w + rules[r, A_PLUS], w_max)
            elif kind == PAIR_MULT:
                weight[pos] = min(w + rules[r, A_PLUS] * xv * (w_max - w), w_max)
            else:
                weight[pos] = min(w + rules[r, A_PLUS] * xv, w_max)
    for r in range(n_rules):  # bump: +1 (all pairs) or set (nearest, window)
        nearest = rules[r, NEAREST] != 0
        b_pre, b_post = rules[r, BUMP_PRE], rules[r, BUMP_POST]
        for s in range(n_spk):
            k = spikes[s]
            x[r, k] = b_pre if nearest else x[r, k] + b_pre
            if s < n_spk_neurons:
                y[r, k] = b_post if nearest else y[r, k] + b_post


@njit(cache=True)
def run_chunk(n0, m, parallel, par, st, syn, inp, pl, mon):
    """Advance steps ``n0 .. n0+m-1``; stop early when the spike buffer might overflow.

    Arguments by concern (kernels_common): neuron :class:`Params` ``par``, :class:`State`
    ``st``, :class:`Synapses` ``syn``, :class:`Inputs` ``inp``, :class:`Plasticity` ``pl``,
    monitors :class:`Record` ``mon``; ``parallel``: threads for the update and propagation.
    ``st.ring == 1`` means direct delivery (``acc_e is i_e``, see the module docstring).
    Returns ``(steps_done, spike_count, events)``.
    """
    n_neurons = st.v.size
    ring, spikes = st.ring, st.spikes
    has_stdp = pl.x.shape[0] > 0
    n_blocks = par.blocks.shape[0]
    blocks, counts, flag, flag_words = par.blocks, st.counts, st.flag, st.flag_words
    count, room = mon.count, mon.out_steps.size - mon.n_rec
    events = 0
    for n in range(n0, n0 + m):
        if count > room:
            return n - n0, count, events
        slot_base = (n % ring) * n_neurons if ring > 1 else -1
        if parallel:
            _update_parallel(par, st, slot_base)
        else:
            update_blocks(0, n_blocks, par, st, slot_base)
        n_spk_neurons = collect_spikes(blocks, counts, flag, flag_words, spikes)
        sample_state(n, st, mon)
        n_spk = add_inputs(n, inp, n_neurons, spikes, n_spk_neurons)
        events += propagate(n, n_spk, syn, st, parallel)
        if has_stdp:
            plasticity(spikes, n_spk, n_spk_neurons, pl, syn.weight, syn.post)
        count = record_spikes(n, n0, spikes, n_spk, n_spk_neurons, mon, count)
    return m, count, events


@njit(cache=True)
def _lockstep_worker(w, n0, m, team, par, st, syn, inp, mon):
    """Worker ``w`` of :func:`run_chunk_lockstep` (see kernels_common, "lockstep")."""
    row = w * LINE
    res, wblock = team.res, team.wblock
    if not arrive(team.sync, team.n_workers):
        res[row + LS_STATUS] = LS_NOT_TOGETHER
        return
    n_neurons = st.v.size
    ring = st.ring
    blocks = par.blocks
    count, room = mon.count, mon.out_steps.size - mon.n_rec
    events = 0
    done = m
    for i in range(m):
        n = n0 + i
        if count > room:
            done = i
            break
        slot_base = (n % ring) * n_neurons if ring > 1 else -1
        update_blocks(wblock[w], wblock[w + 1], par, st, slot_base)
        count, ev, stop = lockstep_after_update(w, i, n, n0, team, blocks, st, syn, inp, mon, count)
        if count < 0:
            res[row + LS_STATUS] = LS_TIMEOUT
            return
        events += ev
        if stop:
            done = i + 1
            res[row + LS_CONTENDED] = 1
            break
    res[row + LS_DONE] = done
    res[row + LS_COUNT] = count
    res[row + LS_EVENTS] = events
    res[row + LS_STATUS] = LS_RAN


@njit(cache=True, parallel=True)
def run_chunk_lockstep(n0, m, team, par, st, syn, inp, mon):
    """Steps ``n0 .. n0+m-1`` of a network without plasticity in ONE parallel region:
    ``team.n_workers`` threads in lockstep, one barrier per step (kernels_common, "lockstep").
    Results per worker in ``team.res`` (zeros, ``n_workers * LINE``); all get ``LS_NOT_TOGETHER``
    and nothing is changed when the workers do not run at the same time.
    """
    for w in prange(team.n_workers):
        _lockstep_worker(w, n0, m, team, par, st, syn, inp, mon)
