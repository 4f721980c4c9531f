"""A slow, plain-Python transcription of docs/core-arithmetic.md: the reference core.

Written from the document only (not from any simulator's code), so that the numba fixed
kernel, the torch backend and the gateware can be checked against an independent reading
of the contract. All arithmetic is on Python ints with the helpers ``sat``, ``rnd``,
``trunc`` and ``>>`` of the document's notation; numpy appears only to read the
:class:`~snn.quantize.QuantizedNetwork` in and to hand the state out.

    core = ReferenceCore(quantized)
    spikes = core.step()       # neuron indices that spiked in this step, ascending
    core.state()               # same keys as Simulator.state in fixed mode

``core.counts`` tallies events that the tests want to see exercised at least once
(saturations, refractory holds, STDP bounds, ...).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from snn.quantize import QuantizedNetwork


# -- the document's notation ------------------------------------------------------------
def sat(x: int, bits: int) -> int:
    """``sat_B(x)``: clamp to the signed range of ``bits`` bits."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return lo if x < lo else hi if x > hi else x


def rnd(x: int, k: int) -> int:
    """``rnd_k(x) = (x + 2^(k-1)) >> k``: round to nearest, halves towards +inf."""
    return (x + (1 << (k - 1))) >> k


def trunc(x: int, k: int) -> int:
    """``trunc_k(x)``: divide by ``2^k``, truncating towards zero."""
    return x >> k if x >= 0 else -((-x) >> k)


def _ints(values) -> list[int]:
    return [int(v) for v in np.asarray(values).ravel()]


class ReferenceCore:
    """One core running a :class:`QuantizedNetwork`, one timestep per :meth:`step`."""

    def __init__(self, quantized: QuantizedNetwork) -> None:
        q = quantized
        b = q.built
        spec = q.spec
        self.q = q
        self.Bv, self.Bi = spec.v_bits, spec.i_bits
        self.C = spec.coef_bits
        self.Fx = spec.trace_frac_bits
        self.Fs = spec.stdp_frac_bits
        self.trace_max = (1 << spec.trace_bits) - 1
        self.s = int(q.weight_shift)
        self.n = int(b.n_neurons)
        self.n_src = int(b.n_sources)
        self.n_pre = self.n + self.n_src

        # neuron constants
        self.v_inf = _ints(q.v_inf)
        self.v_thresh = _ints(q.v_thresh)
        self.v_reset = _ints(q.v_reset)
        self.R = _ints(q.ref_steps)
        self.k_m = _ints(q.k_m)
        self.a_e, self.a_i = _ints(q.a_e), _ints(q.a_i)
        self.p_e, self.p_i = _ints(q.p_e), _ints(q.p_i)

        # synapses (CSR over the global presynaptic index)
        self.syn_ptr = _ints(b.syn_ptr)
        self.syn_post = _ints(b.syn_post)
        self.syn_delay = _ints(b.syn_delay)
        self.syn_exc = [bool(e) for e in np.asarray(b.syn_exc).ravel()]
        self.syn_rule = _ints(b.syn_rule)
        self.w = _ints(q.weight)
        # plastic synapses of each rule, by presynaptic element and by postsynaptic neuron
        self.rules = list(q.rules)
        n_rules = len(self.rules)
        self.plastic_by_pre = [[[] for _ in range(self.n_pre)] for _ in range(n_rules)]
        self.plastic_by_post = [[[] for _ in range(self.n)] for _ in range(n_rules)]
        for k in range(self.n_pre):
            for syn in range(self.syn_ptr[k], self.syn_ptr[k + 1]):
                r = self.syn_rule[syn]
                if r >= 0:
                    self.plastic_by_pre[r][k].append(syn)
                    self.plastic_by_post[r][self.syn_post[syn]].append((syn, k))

        # inputs
        self.input_ptr = _ints(b.input_ptr)
        self.input_ids = _ints(b.input_ids)

        # state at step 0
        self.v = _ints(q.v_init)
        self.i_e = [0] * self.n
        self.i_i = [0] * self.n
        self.ref = [0] * self.n
        self.x = [[0] * self.n_pre for _ in range(n_rules)]
        self.y = [[0] * self.n for _ in range(n_rules)]
        # delay line: absolute step -> (acc_e, acc_i), created on first use
        self.acc: dict[int, tuple[list[int], list[int]]] = {}
        self.t = 0
        self.counts: Counter = Counter()

    # -- one timestep ---------------------------------------------------------------------
    def step(self) -> list[int]:
        """Advance one timestep; return the neurons that spiked (ascending)."""
        n, C, counts = self.n, self.C, self.counts
        t = self.t

        # 1. Delivery
        due = self.acc.pop(t, None)
        if due is not None:
            acc_e, acc_i = due
            for j in range(n):
                if acc_e[j]:
                    self.i_e[j] = self._sat_i(self.i_e[j] + (acc_e[j] << self.s))
                if acc_i[j]:
                    self.i_i[j] = self._sat_i(self.i_i[j] + (acc_i[j] << self.s))

        # 2. Neuron update
        spikes = []
        for j in range(n):
            if self.ref[j] > 0:
                self.ref[j] -= 1
            frozen = self.ref[j] > 0
            if frozen:
                counts["frozen"] += 1
            else:
                v = self.v[j]
                dv = rnd(
                    (self.v_inf[j] - v) * self.k_m[j] + self.i_e[j] * self.p_e[j] + self.i_i[j] * self.p_i[j],
                    C,
                )
                raw = v + dv
                self.v[j] = sat(raw, self.Bv)
                if self.v[j] != raw:
                    counts["sat_v"] += 1
                    counts["sat_v_high" if raw > 0 else "sat_v_low"] += 1
            self.i_e[j] = trunc(self.i_e[j] * self.a_e[j], C)
            self.i_i[j] = trunc(self.i_i[j] * self.a_i[j], C)
            if not frozen and self.v[j] >= self.v_thresh[j]:
                spikes.append(j)
                self.v[j] = self.v_reset[j]
                self.ref[j] = self.R[j]
                counts["spikes"] += 1
                if self.R[j] >= 2:
                    counts["spikes_with_hold"] += 1

        # 3. Inputs: neuron spikes, then sources (global index n + s)
        sources = (
            [n + s for s in self.input_ids[self.input_ptr[t] : self.input_ptr[t + 1]]]
            if t + 1 < len(self.input_ptr)
            else []
        )
        pre_spikes = spikes + sources

        # 4. Propagation (weights read before plasticity)
        for k in pre_spikes:
            for syn in range(self.syn_ptr[k], self.syn_ptr[k + 1]):
                w = self.w[syn]
                d = self.syn_delay[syn]
                slot = self.acc.get(t + d)
                if slot is None:
                    slot = self.acc[t + d] = ([0] * n, [0] * n)
                if self.syn_exc[syn]:
                    slot[0][self.syn_post[syn]] += w
                else:
                    slot[1][self.syn_post[syn]] += w
                counts["synaptic_events"] += 1
                if d > 1:
                    counts["delayed_events"] += 1

        # 5. Plasticity
        for r, rule in enumerate(self.rules):
            self._plasticity(r, rule, pre_spikes, spikes)

        self.t += 1
        self.last_spikes = spikes
        return spikes

    def _sat_i(self, x: int) -> int:
        y = sat(x, self.Bi)
        if y != x:
            self.counts["sat_i"] += 1
            self.counts["sat_i_high" if x > 0 else "sat_i_low"] += 1
        return y

    def _plasticity(self, r: int, rule, pre_spikes: list[int], post_spikes: list[int]) -> None:
        C, counts = self.C, self.counts
        x, y, w = self.x[r], self.y[r], self.w
        k_round = self.Fs + self.Fx
        pair = rule.kind == "pair"
        # a. decay every trace
        if pair:
            for k in range(self.n_pre):
                if x[k]:
                    x[k] = trunc(x[k] * rule.decay_pre, C)
            for j in range(self.n):
                if y[j]:
                    y[j] = trunc(y[j] * rule.decay_post, C)
        else:
            for k in range(self.n_pre):
                x[k] = max(x[k] - 1, 0)
            for j in range(self.n):
                y[j] = max(y[j] - 1, 0)
        w_min, w_max = rule.w_min, rule.w_max
        # b. depression, from the presynaptic spikes of this step
        for k in pre_spikes:
            for syn in self.plastic_by_pre[r][k]:
                yj = y[self.syn_post[syn]]
                old = w[syn]
                if not pair:
                    if yj > 0:
                        w[syn] = max(old - rule.amp_minus, w_min)
                elif rule.multiplicative:
                    w[syn] = max(old - rnd(rule.amp_minus * yj * (old - w_min), k_round), w_min)
                else:
                    w[syn] = max(old - rnd(rule.amp_minus * yj, k_round), w_min)
                if w[syn] != old:
                    counts["depressed"] += 1
                    if w[syn] == w_min:
                        counts["at_w_min"] += 1
        # c. potentiation, at the neurons that spiked
        for j in post_spikes:
            for syn, k in self.plastic_by_post[r][j]:
                xk = x[k]
                old = w[syn]
                if not pair:
                    if xk > 0:
                        w[syn] = min(old + rule.amp_plus, w_max)
                elif rule.multiplicative:
                    w[syn] = min(old + rnd(rule.amp_plus * xk * (w_max - old), k_round), w_max)
                else:
                    w[syn] = min(old + rnd(rule.amp_plus * xk, k_round), w_max)
                if w[syn] != old:
                    counts["potentiated"] += 1
                    if w[syn] == w_max:
                        counts["at_w_max"] += 1
        # d. bump the traces of the elements that spiked
        for k in pre_spikes:
            x[k] = self._bump(rule, x[k], rule.bump_pre)
        for j in post_spikes:
            y[j] = self._bump(rule, y[j], rule.bump_post)

    def _bump(self, rule, value: int, bump: int) -> int:
        if rule.kind == "pair" and not rule.nearest:
            new = value + bump
            if new > self.trace_max:
                self.counts["sat_trace"] += 1
                return self.trace_max
            return new
        return bump  # pair "nearest": 2^Fx; window: window + 1

    def run(self, n_steps: int) -> list[list[int]]:
        """Run ``n_steps`` steps; return the spikes of each."""
        return [self.step() for _ in range(n_steps)]

    # -- state ----------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """The state after the last step, keyed like ``Simulator.state`` in fixed mode."""

        def table(rows: list[list[int]], width: int) -> np.ndarray:
            return np.array(rows, dtype=np.int64).reshape(len(rows), width)

        return {
            "v": np.array(self.v, dtype=np.int64),
            "i_e": np.array(self.i_e, dtype=np.int64),
            "i_i": np.array(self.i_i, dtype=np.int64),
            "ref": np.array(self.ref, dtype=np.int64),
            "x": table(self.x, self.n_pre),
            "y": table(self.y, self.n),
            "weight": np.array(self.w, dtype=np.int64),
        }
