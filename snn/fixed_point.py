"""The core's timestep on Python ints, for the host: docs/core-arithmetic.md, once.

The notation helpers ``sat``, ``rnd``, ``trunc``, phases 1-2 (:func:`neuron_phase`) and
the per-trace and per-synapse rules of phase 5 (:func:`decay_trace`, :func:`depressed`,
:func:`potentiated`, :func:`bumped`). Two host-side cores run their step through these
functions and nothing else: the reference core of the tests
(:mod:`snn.testing.reference_core`, synapses in CSR order) and the simulated board
(:mod:`firmware_host.core_model`, dense matrices in the core's memory map). Only how each
walks its synapses differs; the arithmetic is written here.

Values are Python ints (exact, unbounded): read numpy arrays in with ``tolist()``. The
compiled kernels keep their own helpers in their own types (``snn.sim.intmath`` for
numba, ``snn.torch_backend.intmath`` for torch), checked against these by the tests.

``counts`` (a :class:`collections.Counter`, optional) tallies events that the tests want
to see exercised at least once: saturations, refractory holds, trace saturation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .core_spec import CoreSpec
from .quantize import QuantizedRule


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


def _count_sat(counts: Counter, name: str, raw: int) -> None:
    counts[name] += 1
    counts[f"{name}_high" if raw > 0 else f"{name}_low"] += 1


# -- phases 1 and 2 ---------------------------------------------------------------------
@dataclass(kw_only=True)
class Neurons:
    """Neurons ``0..n-1``: their state (lists that :func:`neuron_phase` updates in place)
    and their constants, one Python int per neuron in each list."""

    # state
    v: list[int]
    i_e: list[int]
    i_i: list[int]
    ref: list[int]
    # constants
    v_inf: list[int]
    v_thresh: list[int]
    v_reset: list[int]
    ref_steps: list[int]
    k_m: list[int]
    a_e: list[int]
    a_i: list[int]
    p_e: list[int]
    p_i: list[int]


def neuron_phase(
    nr: Neurons,
    acc_e: list[int],
    acc_i: list[int],
    *,
    shift: int,
    spec: CoreSpec,
    counts: Counter | None = None,
) -> list[int]:
    """Phase 1 (delivery of the accumulators due now, shifted left by ``shift``) and
    phase 2 (integration, threshold, refractoriness) for every neuron of ``nr``.
    Returns the neurons that spiked, ascending. The accumulators are only read."""
    Bv, Bi, C = spec.v_bits, spec.i_bits, spec.coef_bits
    v, i_e, i_i, ref = nr.v, nr.i_e, nr.i_i, nr.ref
    spikes = []
    constants = zip(nr.v_inf, nr.v_thresh, nr.v_reset, nr.ref_steps, nr.k_m, nr.a_e, nr.a_i, nr.p_e, nr.p_i)
    for j, (v_inf, v_thresh, v_reset, ref_steps, k_m, a_e, a_i, p_e, p_i) in enumerate(constants):
        # 1. delivery
        ie, ii = i_e[j], i_i[j]
        if acc_e[j]:
            raw = ie + (acc_e[j] << shift)
            ie = sat(raw, Bi)
            if counts is not None and ie != raw:
                _count_sat(counts, "sat_i", raw)
        if acc_i[j]:
            raw = ii + (acc_i[j] << shift)
            ii = sat(raw, Bi)
            if counts is not None and ii != raw:
                _count_sat(counts, "sat_i", raw)
        # 2. neuron update
        r = ref[j]
        if r > 0:
            r -= 1
        frozen = r > 0
        vj = v[j]
        if frozen:
            if counts is not None:
                counts["frozen"] += 1
        else:
            raw = vj + rnd((v_inf - vj) * k_m + ie * p_e + ii * p_i, C)
            vj = sat(raw, Bv)
            if counts is not None and vj != raw:
                _count_sat(counts, "sat_v", raw)
        i_e[j] = trunc(ie * a_e, C)
        i_i[j] = trunc(ii * a_i, C)
        if not frozen and vj >= v_thresh:
            spikes.append(j)
            vj, r = v_reset, ref_steps
            if counts is not None:
                counts["spikes"] += 1
                if r >= 2:
                    counts["spikes_with_hold"] += 1
        v[j], ref[j] = vj, r
    return spikes


# -- phase 5, per trace and per synapse ---------------------------------------------------
def decay_trace(trace: list[int], factor: int, rule: QuantizedRule, spec: CoreSpec) -> None:
    """5a, in place: a pair rule multiplies by ``factor`` (``decay_pre`` or ``decay_post``)
    and truncates; a window rule counts down to 0."""
    if rule.kind == "pair":
        C = spec.coef_bits
        for k, value in enumerate(trace):
            if value:
                trace[k] = trunc(value * factor, C)
    else:
        for k, value in enumerate(trace):
            if value:
                trace[k] = max(value - 1, 0)


def depressed(w: int, y: int, rule: QuantizedRule, spec: CoreSpec) -> int:
    """5b: the weight ``w`` after a presynaptic spike, given the postsynaptic trace ``y``."""
    if rule.kind == "window":
        return max(w - rule.amp_minus, rule.w_min) if y > 0 else w
    k = spec.stdp_frac_bits + spec.trace_frac_bits
    if rule.multiplicative:
        return max(w - rnd(rule.amp_minus * y * (w - rule.w_min), k), rule.w_min)
    return max(w - rnd(rule.amp_minus * y, k), rule.w_min)


def potentiated(w: int, x: int, rule: QuantizedRule, spec: CoreSpec) -> int:
    """5c: the weight ``w`` after a postsynaptic spike, given the presynaptic trace ``x``."""
    if rule.kind == "window":
        return min(w + rule.amp_plus, rule.w_max) if x > 0 else w
    k = spec.stdp_frac_bits + spec.trace_frac_bits
    if rule.multiplicative:
        return min(w + rnd(rule.amp_plus * x * (rule.w_max - w), k), rule.w_max)
    return min(w + rnd(rule.amp_plus * x, k), rule.w_max)


def bumped(value: int, bump: int, rule: QuantizedRule, spec: CoreSpec, counts: Counter | None = None) -> int:
    """5d: a trace after its element spiked (``bump`` is ``bump_pre`` or ``bump_post``):
    replaced by ``bump`` (window rule, pair "nearest"), else ``bump`` added, saturating."""
    if rule.kind == "window" or rule.nearest:
        return bump
    new = value + bump
    if new > spec.trace_max:
        if counts is not None:
            counts["sat_trace"] += 1
        return spec.trace_max
    return new
