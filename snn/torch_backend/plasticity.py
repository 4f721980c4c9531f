"""Phase 5 (STDP) on torch, synapse-parallel: every plastic synapse is updated by mask.

Implements docs/core-arithmetic.md phase 5 (a: decay, b: depression on presynaptic
spikes, c: potentiation on postsynaptic spikes, d: bump) for pair (additive or
multiplicative, all or nearest pairing) and window rules, in integers (fixed mode, bit
for bit with the numba kernel) or floats (float mode, as ``kernels_float``). Each step
costs one pass over the plastic synapses with static shapes (no host sync, CUDA-graph
friendly); the numba kernel visits only the synapses of spiking elements instead.
Weights ``(B, n_syn)`` and traces ``x (B, R, n_pre)``, ``y (B, R, n)`` carry the batch.
"""

from __future__ import annotations

import numpy as np
import torch

from ..build import BuiltNetwork
from ..quantize import QuantizedNetwork
from ..sim.layout import (
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
    fixed_rule_table,
    float_rule_table,
)
from .intmath import rnd, trunc

_TINY = 1e-30  # float traces below this flush to 0, as in kernels_float


class Plasticity:
    """STDP state-free machinery for one network; traces and weights are passed in."""

    def __init__(self, built: BuiltNetwork, quantized: QuantizedNetwork | None, dtype, device) -> None:
        self.fixed = quantized is not None
        table = fixed_rule_table(quantized.rules) if self.fixed else float_rule_table(built, np.float64)
        self.n_rules = len(built.rules)
        tdt = torch.int64 if self.fixed else dtype
        rules = torch.as_tensor(table, device=device)
        if not self.fixed:  # columns in the state dtype, as the numba float kernel casts them
            rules = rules.to(dtype)
        self.rules = rules

        def col(c, dt=tdt):
            return rules[:, c].to(dt)

        # per rule, broadcast over (B, R, elements)
        self.window = (col(KIND, torch.int64) == WINDOW).view(1, -1, 1)
        self.nearest = (col(NEAREST, torch.int64) != 0).view(1, -1, 1)
        self.d_pre, self.d_post = col(D_PRE).view(1, -1, 1), col(D_POST).view(1, -1, 1)
        self.b_pre, self.b_post = col(BUMP_PRE).view(1, -1, 1), col(BUMP_POST).view(1, -1, 1)
        # per plastic synapse
        plastic = np.flatnonzero(built.syn_rule >= 0)
        n_pre = built.syn_ptr.size - 1
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(built.syn_ptr))
        as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a, np.int64), device=device)  # noqa: E731
        self.pos = as_t(plastic)
        self.pre = as_t(pre[plastic])
        self.post = as_t(built.syn_post[plastic])
        self.rule = as_t(built.syn_rule[plastic])
        r = self.rule
        kind = col(KIND, torch.int64)[r]
        self.s_window, self.s_mult = kind == WINDOW, kind == PAIR_MULT
        self.a_plus, self.a_minus = col(A_PLUS)[r], col(A_MINUS)[r]
        self.w_min, self.w_max = col(W_MIN)[r], col(W_MAX)[r]
        if self.fixed:
            spec = quantized.spec
            self.c = spec.coef_bits
            self.shift = spec.stdp_frac_bits + spec.trace_frac_bits
            self.t_max = spec.trace_max

    def step(
        self, spikes: torch.Tensor, n_neurons: int, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor
    ) -> None:
        """Apply phase 5 in place. ``spikes`` ``(B, n_pre)`` bool: neurons first, then sources."""
        if self.n_rules == 0:
            return
        post_spk = spikes[:, :n_neurons]
        # a. decay
        for tr, d in ((x, self.d_pre), (y, self.d_post)):
            if self.fixed:
                decayed = trunc(tr * d, self.c)
            else:
                decayed = tr * d
                decayed = torch.where(decayed > _TINY, decayed, torch.zeros_like(decayed))
            tr.copy_(torch.where(self.window, torch.clamp(tr - 1, min=0), decayed))
        # b. depression (pre spiked), then c. potentiation (post spiked), each from old traces
        w = weight[:, self.pos]
        y_v = y[:, self.rule, self.post]
        dep = self._change(self.a_minus, y_v, w - self.w_min)
        w = torch.where(spikes[:, self.pre] & self._live(y_v), torch.maximum(w - dep, self.w_min), w)
        x_v = x[:, self.rule, self.pre]
        pot = self._change(self.a_plus, x_v, self.w_max - w)
        w = torch.where(post_spk[:, self.post] & self._live(x_v), torch.minimum(w + pot, self.w_max), w)
        weight[:, self.pos] = w
        # d. bump the traces of the elements that spiked
        for tr, b, spk in ((x, self.b_pre, spikes), (y, self.b_post, post_spk)):
            added = tr + b
            if self.fixed:
                added = torch.clamp(added, max=self.t_max)
            bumped = torch.where(self.nearest, b.expand_as(tr), added)
            tr.copy_(torch.where(spk.unsqueeze(1), bumped, tr))

    def _live(self, trace: torch.Tensor) -> torch.Tensor:
        """Synapses that change at all: a window rule only while the other side's trace is > 0."""
        return ~self.s_window | (trace > 0)

    def _change(self, amp: torch.Tensor, trace: torch.Tensor, room: torch.Tensor) -> torch.Tensor:
        """Size of a weight step: window ``A``; pair ``A*trace`` (times ``room`` if multiplicative)."""
        if self.fixed:
            pair = rnd(torch.where(self.s_mult, amp * trace * room, amp * trace), self.shift)
        else:
            pair = torch.where(self.s_mult, amp * trace * room, amp * trace)
        return torch.where(self.s_window, amp, pair)
