"""A slow, plain-Python transcription of docs/core-arithmetic.md: the reference core.

Written from the document only (not from any simulator's code), so that the numba fixed
kernel, the torch backend and the gateware can be checked against an independent reading
of the contract. The arithmetic is that of :mod:`snn.fixed_point` (Python ints, the
document's ``sat``, ``rnd``, ``trunc``), which the simulated board
(``firmware_host.core_model``) runs too; this module adds the network side: synapses in
CSR order, delays, any number of rules. numpy appears only to read the
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

from snn.fixed_point import (
    Neurons,
    bumped,
    decay_trace,
    depressed,
    neuron_phase,
    potentiated,
    rnd,
    sat,
    trunc,
)
from snn.quantize import QuantizedNetwork

__all__ = ["ReferenceCore", "rnd", "sat", "trunc"]  # the notation, from snn.fixed_point


def _ints(values) -> list[int]:
    return [int(v) for v in np.asarray(values).ravel()]


class ReferenceCore:
    """One core running a :class:`QuantizedNetwork`, one timestep per :meth:`step`."""

    def __init__(self, quantized: QuantizedNetwork) -> None:
        q = quantized
        b = q.built
        spec = q.spec
        self.q = q
        self.spec = spec
        self.s = int(q.weight_shift)
        self.n = int(b.n_neurons)
        self.n_src = int(b.n_sources)
        self.n_pre = self.n + self.n_src

        # neuron state at step 0 and constants (phases 1-2 of snn.fixed_point)
        self.neurons = Neurons(
            v=_ints(q.v_init),
            i_e=[0] * self.n,
            i_i=[0] * self.n,
            ref=[0] * self.n,
            v_inf=_ints(q.v_inf),
            v_thresh=_ints(q.v_thresh),
            v_reset=_ints(q.v_reset),
            ref_steps=_ints(q.ref_steps),
            k_m=_ints(q.k_m),
            a_e=_ints(q.a_e),
            a_i=_ints(q.a_i),
            p_e=_ints(q.p_e),
            p_i=_ints(q.p_i),
        )
        # the state lists themselves (updated in place), as short names
        self.v, self.i_e, self.i_i, self.ref = (
            self.neurons.v,
            self.neurons.i_e,
            self.neurons.i_i,
            self.neurons.ref,
        )

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

        # traces at step 0
        self.x = [[0] * self.n_pre for _ in range(n_rules)]
        self.y = [[0] * self.n for _ in range(n_rules)]
        # delay line: absolute step -> (acc_e, acc_i), created on first use
        self.acc: dict[int, tuple[list[int], list[int]]] = {}
        self._zeros = [0] * self.n  # nothing due (read only)
        self.t = 0
        self.counts: Counter = Counter()

    # -- one timestep ---------------------------------------------------------------------
    def step(self) -> list[int]:
        """Advance one timestep; return the neurons that spiked (ascending)."""
        n = self.n
        t = self.t

        # 1-2. Delivery of the accumulators due now, neuron update
        acc_e, acc_i = self.acc.pop(t, None) or (self._zeros, self._zeros)
        spikes = neuron_phase(self.neurons, acc_e, acc_i, shift=self.s, spec=self.spec, counts=self.counts)

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
                self.counts["synaptic_events"] += 1
                if d > 1:
                    self.counts["delayed_events"] += 1

        # 5. Plasticity
        for r, rule in enumerate(self.rules):
            self._plasticity(r, rule, pre_spikes, spikes)

        self.t += 1
        self.last_spikes = spikes
        return spikes

    def _plasticity(self, r: int, rule, pre_spikes: list[int], post_spikes: list[int]) -> None:
        spec, counts = self.spec, self.counts
        x, y, w = self.x[r], self.y[r], self.w
        # a. decay every trace
        decay_trace(x, rule.decay_pre, rule, spec)
        decay_trace(y, rule.decay_post, rule, spec)
        # b. depression, from the presynaptic spikes of this step
        for k in pre_spikes:
            for syn in self.plastic_by_pre[r][k]:
                old = w[syn]
                w[syn] = depressed(old, y[self.syn_post[syn]], rule, spec)
                if w[syn] != old:
                    counts["depressed"] += 1
                    if w[syn] == rule.w_min:
                        counts["at_w_min"] += 1
        # c. potentiation, at the neurons that spiked
        for j in post_spikes:
            for syn, k in self.plastic_by_post[r][j]:
                old = w[syn]
                w[syn] = potentiated(old, x[k], rule, spec)
                if w[syn] != old:
                    counts["potentiated"] += 1
                    if w[syn] == rule.w_max:
                        counts["at_w_max"] += 1
        # d. bump the traces of the elements that spiked
        for k in pre_spikes:
            x[k] = bumped(x[k], rule.bump_pre, rule, spec, counts)
        for j in post_spikes:
            y[j] = bumped(y[j], rule.bump_post, rule, spec, counts)

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
