"""The hardware-exact kernel: docs/core-arithmetic.md to the bit, in int64.

Same structure and phase order as kernels_float.py; every rounding goes through the
helpers of :mod:`snn.sim.intmath`. Weights are int32 weight LSBs; accumulators are
int64 (exact: the core's acc_bits never saturate, and neither do these).
"""

from __future__ import annotations

from numba import njit, prange, uint64

from .intmath import rnd, sat, trunc
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

# columns of the per-segment parameter table (int64)
V_INF, V_THRESH, V_RESET, REF, K_M, A_E, A_I, P_E, P_I = range(9)
N_PARAM_COLS = 9
# entries of the constants vector
C_BITS, V_LO, V_HI, I_LO, I_HI, W_SHIFT, STDP_SHIFT, TRACE_MAX = range(8)
N_CONSTS = 8


@njit(cache=True)
def update_block(lo, hi, s, seg_par, consts, v, i_e, i_i, ref, acc_e, acc_i, slot_base, flag):
    """Phases 1-2 for neurons ``lo:hi`` of segment ``s``: delivery (``i = sat(i + (acc << s))``),
    integration, threshold, refractoriness. Sets ``flag``, returns the spike count.

    The same loop shape as the float kernel (selects, unsigned indices) so that it
    vectorizes; integer arithmetic is exact whether vectorized or not.
    """
    c, s_w = consts[C_BITS], consts[W_SHIFT]
    v_lo, v_hi, i_lo, i_hi = consts[V_LO], consts[V_HI], consts[I_LO], consts[I_HI]
    v_inf, v_th, v_reset, r_steps = (
        seg_par[s, V_INF],
        seg_par[s, V_THRESH],
        seg_par[s, V_RESET],
        seg_par[s, REF],
    )
    k_m, a_e, a_i, p_e, p_i = (
        seg_par[s, K_M],
        seg_par[s, A_E],
        seg_par[s, A_I],
        seg_par[s, P_E],
        seg_par[s, P_I],
    )
    n_spk = 0
    for jj in range(lo, hi):
        j = uint64(jj)
        a = uint64(slot_base + jj)
        ie = sat(i_e[j] + (acc_e[a] << s_w), i_lo, i_hi)
        ii = sat(i_i[j] + (acc_i[a] << s_w), i_lo, i_hi)
        acc_e[a] = 0
        acc_i[a] = 0
        r = max(ref[j] - 1, 0)
        vj = v[j]
        vn = sat(vj + rnd((v_inf - vj) * k_m + ie * p_e + ii * p_i, c), v_lo, v_hi)
        active = r == 0  # not frozen
        spike = active & (vn >= v_th)
        v[j] = v_reset if spike else (vn if active else vj)
        ref[j] = r_steps if spike else r
        i_e[j] = trunc(ie * a_e, c)
        i_i[j] = trunc(ii * a_i, c)
        flag[j] = spike
        n_spk += spike
    return n_spk


@njit(cache=True)
def update_blocks(b_lo, b_hi, par, st, slot_base):
    """:func:`update_block` of blocks ``b_lo:b_hi`` (:class:`Params` ``par``, its ``aux`` the
    constants vector; :class:`State` ``st``); each block's spike count into ``st.counts``."""
    blocks, seg_par, consts = par
    # members into locals first: a member read in the loop would count references per block
    v, i_e, i_i, ref, acc_e, acc_i, _, flag, _, counts, _ = st
    for b in range(b_lo, b_hi):
        counts[b] = update_block(blocks[b, 0], blocks[b, 1], blocks[b, 2], seg_par, consts, v, i_e, i_i, ref, acc_e,
                                 acc_i, slot_base, flag)  # fmt: skip


@njit(cache=True, parallel=True)
def _update_parallel(par, st, slot_base):
    """All blocks over threads (a function of its own: see kernels_common)."""
    for b in prange(par.blocks.shape[0]):
        update_blocks(b, b + 1, par, st, slot_base)


@njit(cache=True)
def plasticity(spikes, n_spk, n_spk_neurons, pl, consts, weight, post):
    """Phase 5 a-d in integers (:class:`Plasticity` ``pl``): decay, depression, potentiation,
    bump (traces saturate at trace_max)."""
    rules, x, y, pre_ptr, pre_pos, pre_rule, post_ptr, post_pos, post_pre, post_rule = pl
    c, shift, t_max = consts[C_BITS], consts[STDP_SHIFT], consts[TRACE_MAX]
    n_rules = x.shape[0]
    for r in range(n_rules):
        if rules[r, KIND] == WINDOW:
            for k in range(x.shape[1]):
                x[r, k] = max(x[r, k] - 1, 0)
            for j in range(y.shape[1]):
                y[r, j] = max(y[r, j] - 1, 0)
        else:  # traces are unsigned: trunc is a plain shift
            d_pre, d_post = rules[r, D_PRE], rules[r, D_POST]
            for k in range(x.shape[1]):
                x[r, k] = trunc(x[r, k] * d_pre, c)
            for j in range(y.shape[1]):
                y[r, j] = trunc(y[r, j] * d_post, c)
    for s in range(n_spk):  # depression
        k = spikes[s]
        for q in range(pre_ptr[k], pre_ptr[k + 1]):
            pos, r = pre_pos[q], pre_rule[q]
            yv = y[r, post[pos]]
            w, w_min, kind = weight[pos], rules[r, W_MIN], rules[r, KIND]
            if kind == WINDOW:
                if yv > 0:
                    weight[pos] = max(w - rules[r, A_MINUS], w_min)
            elif kind == PAIR_MULT:
                weight[pos] = max(w - rnd(rules[r, A_MINUS] * yv * (w - w_min), shift), w_min)
            else:
                weight[pos] = max(w - rnd(rules[r, A_MINUS] * yv, shift), w_min)
    for s in range(n_spk_neurons):  # potentiation
        j = spikes[s]
        for q in range(post_ptr[j], post_ptr[j + 1]):
            pos, r = post_pos[q], post_rule[q]
            xv = x[r, post_pre[q]]
            w, w_max, kind = weight[pos], rules[r, W_MAX], rules[r, KIND]
            if kind == WINDOW:
                if xv > 0:
                    weight[pos] = min(w + rules[r, A_PLUS], w_max)
            elif kind == PAIR_MULT:
                weight[pos] = min(w + rnd(rules[r, A_PLUS] * xv * (w_max - w), shift), w_max)
            else:
                weight[pos] = min(w + rnd(rules[r, A_PLUS] * xv, shift), w_max)
    for r in range(n_rules):  # bump
        nearest = rules[r, NEAREST] != 0
        b_pre, b_post = rules[r, BUMP_PRE], rules[r, BUMP_POST]
        for s in range(n_spk):
            k = spikes[s]
            x[r, k] = b_pre if nearest else min(x[r, k] + b_pre, t_max)
            if s < n_spk_neurons:
                y[r, k] = b_post if nearest else min(y[r, k] + b_post, t_max)


@njit(cache=True)
def run_chunk(n0, m, parallel, par, st, syn, inp, pl, mon):
    """Advance steps ``n0 .. n0+m-1`` (arguments: see kernels_float.run_chunk); returns
    ``(done, count, events)``."""
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
        slot_base = (n % ring) * n_neurons
        if parallel:
            _update_parallel(par, st, slot_base)
        else:
            update_blocks(0, n_blocks, par, st, slot_base)
        n_spk_neurons = collect_spikes(blocks, counts, flag, flag_words, spikes)
        sample_state(n, st, mon)
        n_spk = add_inputs(n, inp, n_neurons, spikes, n_spk_neurons)
        events += propagate(n, n_spk, syn, st, parallel)
        if has_stdp:
            plasticity(spikes, n_spk, n_spk_neurons, pl, par.aux, syn.weight, syn.post)
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
        slot_base = (n % ring) * n_neurons
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
    """Steps ``n0 .. n0+m-1`` without plasticity in one parallel region (kernels_float.run_chunk_lockstep)."""
    for w in prange(team.n_workers):
        _lockstep_worker(w, n0, m, team, par, st, syn, inp, mon)
