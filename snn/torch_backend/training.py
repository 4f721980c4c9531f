"""Surrogate-gradient training under the core's constraints, and export to the core.

:class:`SpikingMLP` is a feed-forward network of LIF layers whose forward pass is the
float mode of docs/core-arithmetic.md on a grid with every delay 1 step: a spike at
step ``n`` reaches the next layer's currents at step ``n + 1``, currents and ``v`` are
clamped to the ranges of ``i_bits``/``v_bits``, and refractoriness holds ``v`` as the core
does. Training is backpropagation through time with a fast-sigmoid surrogate for the
threshold's derivative (Zenke & Ganguli 2018). With ``qat=True`` the forward pass uses
weights rounded to the core's 8-bit grid (one global LSB ``2**(s - frac_bits)`` mV, ``s``
chosen exactly as :func:`snn.quantize` chooses it) and the gradient passes straight
through the rounding (straight-through estimator).

:meth:`SpikingMLP.to_network` exports the trained (rounded) weights as a
:class:`snn.Network` with explicit input spikes; :meth:`SpikingMLP.to_quantized`
quantizes it into the :class:`~snn.quantize.QuantizedNetwork` that numba fixed mode, the
torch fixed mode, the RTL and a board run unchanged. Positive weights go to an
excitatory projection, negative ones to an inhibitory one (a sparse pair of projections
that never connect the same pair twice, as the core requires). STDP is not trained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..connectivity import Sparse
from ..core_spec import CoreSpec
from ..errors import FitError
from ..network import Network
from ..quantize import QuantizedNetwork, propagators, quantize


class SurrogateSpike(torch.autograd.Function):
    """Heaviside step forward; derivative of a fast sigmoid, ``1 / (1 + slope*|x|)**2``, backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, slope: float) -> torch.Tensor:  # noqa: D102
        ctx.save_for_backward(x)
        ctx.slope = slope
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: D102
        (x,) = ctx.saved_tensors
        return grad / (1.0 + ctx.slope * x.abs()) ** 2, None


def weight_shift(max_abs_mV: float, spec: CoreSpec) -> int:
    """The weight shift :func:`snn.quantize` picks for a largest weight of ``max_abs_mV``."""
    w_hi = spec.weight_range[1]
    for shift in range(spec.max_weight_shift + 1):
        if round(max_abs_mV / 2.0 ** (shift - spec.frac_bits)) <= w_hi:
            return shift
    raise FitError(
        f"a weight of {max_abs_mV:g} mV needs a shift beyond {spec.max_weight_shift} bits; scale the weights down"
    )


def round_half_away(x: torch.Tensor) -> torch.Tensor:
    """Round half away from zero, as :func:`snn.quantize` does (``torch.round`` rounds half to even)."""
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


@dataclass(frozen=True)
class LIFParams:
    """Neuron parameters shared by every layer (ms, mV); only weights are trained."""

    tau_m: float = 10.0
    tau_syn_e: float = 5.0
    tau_syn_i: float = 5.0
    v_rest: float = -65.0
    v_thresh: float = -55.0
    v_reset: float = -65.0
    t_ref: float = 0.0
    i_bias: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """Keyword arguments for :meth:`snn.Network.lif` (``v_init = v_reset``)."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["v_init"] = self.v_reset
        return d


class SpikingMLP(nn.Module):
    """LIF layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` (``sizes[0]``: spike sources).

    ``forward(inputs)`` takes ``(B, T, sizes[0])`` 0/1 spikes and returns the output
    layer's spikes ``(B, T, sizes[-1])``; ``hidden_spikes`` keeps every layer's for
    regularization. ``weight_scale``: initial weights ~ N(0, weight_scale / sqrt(fan_in)) mV.
    """

    def __init__(
        self,
        sizes: list[int],
        *,
        dt: float = 1.0,
        lif: LIFParams | None = None,
        spec: CoreSpec | None = None,
        qat: bool = True,
        slope: float = 5.0,
        weight_scale: float = 20.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.sizes, self.dt = list(sizes), float(dt)
        self.lif = lif or LIFParams()
        self.spec = spec or CoreSpec()
        self.qat, self.slope = qat, slope
        gen = torch.Generator().manual_seed(seed)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.randn(a, b, generator=gen) * weight_scale / np.sqrt(a))
            for a, b in zip(sizes[:-1], sizes[1:])
        )
        p = self.lif
        prop = propagators(self.dt, p.tau_m, p.tau_syn_e, p.tau_syn_i)
        self._e_m = float(1.0 - prop["k_m"])
        self._a_e, self._a_i = float(prop["a_e"]), float(prop["a_i"])
        self._p_e, self._p_i = float(prop["p_e"]), float(prop["p_i"])
        self._ref_steps = int(np.floor(p.t_ref / self.dt + 0.5))
        scale = 2.0**self.spec.frac_bits
        self._v_lim = [r / scale for r in self.spec.v_range]
        self._i_lim = [r / scale for r in self.spec.i_range]
        self.hidden_spikes: list[torch.Tensor] = []

    # -- weights ---------------------------------------------------------------------------------
    def weight_shift(self) -> int:
        """The core's weight shift for the current weights (one LSB for the whole network)."""
        largest = max(float(w.detach().abs().max()) for w in self.weights)
        return weight_shift(largest, self.spec)

    def effective_weights(self) -> list[torch.Tensor]:
        """Weights of the forward pass: rounded to the core's grid (STE) when ``qat``, else as trained."""
        if not self.qat:
            return list(self.weights)
        lsb = 2.0 ** (self.weight_shift() - self.spec.frac_bits)
        lo, hi = self.spec.weight_range
        out = []
        for w in self.weights:
            q = torch.clamp(round_half_away(w / lsb), lo, hi) * lsb
            out.append(w + (q - w).detach())  # straight-through: forward q, gradient of identity
        return out

    # -- dynamics --------------------------------------------------------------------------------
    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Output spikes ``(B, T, n_out)`` for input spikes ``(B, T, n_in)``."""
        batch, steps, _ = inputs.shape
        p = self.lif
        v_inf = p.v_rest + p.i_bias
        # the sign of a weight picks its current (excitatory: i_e, inhibitory: i_i)
        split = [(w.clamp(min=0), w.clamp(max=0)) for w in self.effective_weights()]
        first = [inputs @ w for w in split[0]]  # the sources' drive of every step, at once
        hold = self._ref_steps > 1  # R = 0 or 1: no refractory hold
        state = []
        for w_e, _ in split:
            z = inputs.new_zeros(batch, w_e.shape[1])
            state.append([z + p.v_reset, z, z, torch.zeros_like(z, dtype=torch.int64)])
        prev: list[torch.Tensor | None] = [None] * len(split)  # spikes of step n-1 of the layer below
        outs: list[list[torch.Tensor]] = [[] for _ in split]
        for n in range(steps):
            for layer, (w_e, w_i) in enumerate(split):
                v, ie, ii, ref = state[layer]
                if layer == 0:  # delay 1: spikes of step n-1 arrive at step n
                    if n > 0:
                        ie, ii = ie + first[0][:, n - 1], ii + first[1][:, n - 1]
                elif prev[layer] is not None:
                    ie, ii = ie + prev[layer] @ w_e, ii + prev[layer] @ w_i
                ie, ii = torch.clamp(ie, *self._i_lim), torch.clamp(ii, *self._i_lim)
                v_new = torch.clamp(
                    v_inf + (v - v_inf) * self._e_m + self._p_e * ie + self._p_i * ii, *self._v_lim
                )
                if hold:
                    ref = torch.clamp(ref - 1, min=0)
                    v_new = torch.where(ref == 0, v_new, v)
                s = SurrogateSpike.apply(v_new - p.v_thresh, self.slope)
                if hold:
                    s = s * (ref == 0)
                    ref = torch.where(s.detach() > 0, self._ref_steps, ref)
                v = torch.where(s.detach() > 0, p.v_reset, v_new)
                state[layer] = [v, ie * self._a_e, ii * self._a_i, ref]
                outs[layer].append(s)
            prev = [None] + [o[-1] for o in outs[:-1]]
        self.hidden_spikes = [torch.stack(o, dim=1) for o in outs]
        return self.hidden_spikes[-1]

    # -- export ----------------------------------------------------------------------------------
    @torch.no_grad()
    def quantized_weights(self) -> tuple[int, list[np.ndarray]]:
        """``(shift, weights in mV)``: the exact multiples of the weight LSB that the core holds."""
        shift = self.weight_shift()
        lsb = 2.0 ** (shift - self.spec.frac_bits)
        lo, hi = self.spec.weight_range
        ints = [np.clip(np.sign(a) * np.floor(np.abs(a) / lsb + 0.5), lo, hi)
                for a in (w.double().cpu().numpy() for w in self.weights)]  # fmt: skip
        return shift, [k * lsb for k in ints]

    def to_network(self, ids: np.ndarray, steps: np.ndarray, n_steps: int, seed: int = 0) -> Network:
        """The trained network as a :class:`snn.Network` with input spikes ``(ids, steps)``.

        Populations: ``input`` (spike source), ``layer1`` .. ``layerK`` (LIF; the last is the
        output). Spikes of every LIF layer are recorded.
        """
        _, weights = self.quantized_weights()
        net = Network(dt=self.dt, duration=n_steps * self.dt, seed=seed)
        pre = net.spikes(
            "input", self.sizes[0], ids=np.asarray(ids, np.int64), steps=np.asarray(steps, np.int64)
        )
        for layer, w in enumerate(weights, start=1):
            post = net.lif(f"layer{layer}", w.shape[1], **self.lif.as_dict())
            for target, mask in (("exc", w > 0), ("inh", w < 0)):
                i, j = np.nonzero(mask)
                if i.size:
                    net.connect(f"w{layer}_{target}", pre, post, Sparse(i, j), weight=w[i, j], target=target)
            pre = post
        net.record_spikes(*[f"layer{k}" for k in range(1, len(weights) + 1)])
        return net

    def to_quantized(self, network: Network) -> QuantizedNetwork:
        """Quantize an exported network for the core (refuses networks that do not fit it)."""
        return quantize(network, self.spec, weight_shift=self.quantized_weights()[0], require_fit=True)


def count_loss(out_spikes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the output spike counts taken as logits (the core reports spikes only)."""
    return nn.functional.cross_entropy(out_spikes.sum(dim=1), labels)


def predict(counts: torch.Tensor | np.ndarray) -> np.ndarray:
    """Class of each row of spike ``counts`` ``(B, n_out)``: the most spikes, lowest index on ties."""
    return np.argmax(np.asarray(counts), axis=1)


def rate_code(values: np.ndarray, n_steps: int, max_prob: float = 0.5) -> np.ndarray:
    """Deterministic rate code: ``(B, n)`` values in [0, 1] -> ``(B, n_steps, n)`` 0/1 spikes.

    Input ``k`` spikes at step ``t`` when ``floor((t+1)*r) > floor(t*r)`` with ``r = value*max_prob``
    (regular spike trains, no noise: float, fixed and hardware runs see the same input).
    """
    r = np.clip(np.asarray(values, np.float64), 0.0, 1.0)[:, None, :] * max_prob
    t = np.arange(n_steps, dtype=np.float64)[None, :, None]
    return (np.floor((t + 1) * r) > np.floor(t * r)).astype(np.float32)


def fit(
    model: SpikingMLP,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 0.1,
    rate_reg: float = 0.0,
    seed: int = 0,
    log=None,
) -> list[float]:
    """Train with Adam on ``count_loss`` (plus ``rate_reg`` times the mean hidden spike rate).

    ``lr`` is in mV (weights are in mV: 0.1 mV is a fraction of an 8-bit LSB of typical
    networks). Returns the mean loss of every epoch.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    history = []
    for epoch in range(epochs):
        order = torch.randperm(inputs.shape[0], generator=gen)
        total, seen = 0.0, 0
        for lo in range(0, order.numel(), batch_size):
            idx = order[lo : lo + batch_size]
            out = model(inputs[idx])
            loss = count_loss(out, labels[idx])
            if rate_reg:
                loss = loss + rate_reg * sum(s.mean() for s in model.hidden_spikes[:-1])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
            seen += idx.numel()
        history.append(total / seen)
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f}")
    return history
