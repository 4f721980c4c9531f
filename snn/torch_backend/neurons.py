"""Phases 1-2 (delivery and neuron update) on torch, in float or in the core's integers.

Per-neuron parameters are 1-D tensors that broadcast over the batch; state tensors are
``(B, n)``. The float update follows ``kernels_float.update_neurons`` expression for
expression (same operation order, so float64 agrees with numba to the last bit), the
fixed one docs/core-arithmetic.md (``kernels_fixed.update_neurons``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..build import BuiltNetwork
from ..quantize import QuantizedNetwork, propagators
from .intmath import rnd, trunc


@dataclass
class NeuronState:
    """``v``, ``i_e``, ``i_i`` (float dtype or int64) and ``ref`` (int64), each ``(B, n)``."""

    v: torch.Tensor
    i_e: torch.Tensor
    i_i: torch.Tensor
    ref: torch.Tensor


class FloatNeurons:
    """Exact integration of LIF with exponential currents (docs/core-arithmetic.md, "Float mode")."""

    def __init__(self, built: BuiltNetwork, dtype: torch.dtype, device: torch.device) -> None:
        p = built.params
        prop = propagators(built.dt, p["tau_m"], p["tau_syn_e"], p["tau_syn_i"])

        def t(a):
            return torch.as_tensor(np.asarray(a, np.float64), device=device).to(dtype)

        self.v_inf, self.v_th, self.v_reset = t(p["v_rest"] + p["i_bias"]), t(p["v_thresh"]), t(p["v_reset"])
        self.e_m = t(1.0 - prop["k_m"])
        self.a_e, self.a_i, self.p_e, self.p_i = (t(prop[k]) for k in ("a_e", "a_i", "p_e", "p_i"))
        ref = np.floor(p["t_ref"] / built.dt + 0.5).astype(np.int64)  # round half up, as quantize
        self.ref_steps = torch.as_tensor(ref, device=device)
        self.v_init = t(p["v_init"])
        self.dtype = dtype

    def initial(self, batch: int) -> NeuronState:
        """State at step 0."""
        z = torch.zeros(batch, self.v_init.numel(), dtype=self.dtype, device=self.v_init.device)
        return NeuronState(self.v_init.expand_as(z).clone(), z.clone(), z.clone(), z.to(torch.int64))

    def step(self, s: NeuronState, acc: torch.Tensor) -> torch.Tensor:
        """Deliver ``acc`` ``(B, 2, n)`` (then cleared), update ``s`` in place; returns the spikes ``(B, n)``."""
        ie = s.i_e + acc[:, 0]
        ii = s.i_i + acc[:, 1]
        acc.zero_()
        ref = torch.clamp(s.ref - 1, min=0)
        active = ref == 0
        v = torch.where(
            active, self.v_inf + (s.v - self.v_inf) * self.e_m + self.p_e * ie + self.p_i * ii, s.v
        )
        spike = active & (v >= self.v_th)
        s.v.copy_(torch.where(spike, self.v_reset, v))
        s.ref.copy_(torch.where(spike, self.ref_steps, ref))
        s.i_e.copy_(ie * self.a_e)
        s.i_i.copy_(ii * self.a_i)
        return spike


class FixedNeurons:
    """The core's integer neuron update (docs/core-arithmetic.md, phases 1 and 2)."""

    def __init__(self, q: QuantizedNetwork, device: torch.device) -> None:
        spec = q.spec

        def t(a):
            return torch.as_tensor(np.asarray(a, np.int64), device=device)

        self.v_inf, self.v_th, self.v_reset, self.ref_steps = (
            t(q.v_inf),
            t(q.v_thresh),
            t(q.v_reset),
            t(q.ref_steps),
        )
        self.k_m, self.a_e, self.a_i, self.p_e, self.p_i = t(q.k_m), t(q.a_e), t(q.a_i), t(q.p_e), t(q.p_i)
        self.v_init = t(q.v_init)
        self.c, self.s_w = spec.coef_bits, int(q.weight_shift)
        self.v_lo, self.v_hi = spec.v_range
        self.i_lo, self.i_hi = spec.i_range

    def initial(self, batch: int) -> NeuronState:
        """State at step 0."""
        z = torch.zeros(batch, self.v_init.numel(), dtype=torch.int64, device=self.v_init.device)
        return NeuronState(self.v_init.expand_as(z).clone(), z.clone(), z.clone(), z.clone())

    def step(self, s: NeuronState, acc: torch.Tensor) -> torch.Tensor:
        """Deliver ``acc`` ``(B, 2, n)`` (then cleared), update ``s`` in place; returns the spikes ``(B, n)``."""
        ie = torch.clamp(s.i_e + (acc[:, 0] << self.s_w), self.i_lo, self.i_hi)
        ii = torch.clamp(s.i_i + (acc[:, 1] << self.s_w), self.i_lo, self.i_hi)
        acc.zero_()
        ref = torch.clamp(s.ref - 1, min=0)
        active = ref == 0
        dv = rnd((self.v_inf - s.v) * self.k_m + ie * self.p_e + ii * self.p_i, self.c)
        v = torch.where(active, torch.clamp(s.v + dv, self.v_lo, self.v_hi), s.v)
        spike = active & (v >= self.v_th)
        s.v.copy_(torch.where(spike, self.v_reset, v))
        s.ref.copy_(torch.where(spike, self.ref_steps, ref))
        s.i_e.copy_(trunc(ie * self.a_e, self.c))
        s.i_i.copy_(trunc(ii * self.a_i, self.c))
        return spike
