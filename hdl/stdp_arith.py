"""Phase 5's per-synapse and per-trace arithmetic (docs/core-arithmetic.md) as logic.

Every learning datapath (the learning engines of one and two lanes, the wide core's
matrix engines) builds its weight updates and trace bumps here, so the rules live in one
place and the engines differ only in their schedules.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, Value, signed, unsigned

from snn.core_spec import CoreSpec

from .arith import rnd


def weight_delta(m: Module, spec: CoreSpec, rule, ltp: Value, w: Value, product: Value, name=""):
    """``(delta, dist)``: the unbounded step of a synapse of weight ``w`` and the room to its
    bound (``w_max - w`` for potentiation, ``w - w_min`` for depression).

    ``rule``: its matrix's rule slot (``hdl.memories.rule_layout``); ``ltp``: potentiation
    (else depression); ``product``: ``A * trace`` of the partner (a window rule: ``1 * A``).
    """
    W = spec.weight_bits
    dist = Signal(signed(W + 1), name=f"dist{name}")
    m.d.comb += dist.eq(Mux(ltp, rule.w_max - w, w - rule.w_min))
    delta = Signal(signed(product.shape().width + W + 3), name=f"delta{name}")
    with m.If(rule.flags[1]):
        m.d.comb += delta.eq(product)  # the amplitude (1 * A)
    with m.Elif(rule.flags[2]):
        m.d.comb += delta.eq(rnd(product * dist, spec.stdp_frac_bits + spec.trace_frac_bits))
    with m.Else():
        m.d.comb += delta.eq(rnd(product, spec.stdp_frac_bits + spec.trace_frac_bits))
    return delta, dist


def bounded_weight(spec: CoreSpec, rule, ltp: Value, w: Value, delta: Value, dist: Value) -> Value:
    """The new weight: ``w`` moved by ``delta``, or the bound when ``delta`` exceeds the room
    ``dist`` to it. Compared in ``weight_bits + 1`` bits, not added at full width and clipped:
    a delta outside ``[-2^W, 2^W)`` exceeds (or not) every room of W-bit weights."""
    W = spec.weight_bits
    big = ~delta[-1] & delta[W:-1].any()
    tiny = delta[-1] & ~delta[W:-1].all()
    bounded = big | (~tiny & (delta[: W + 1].as_signed() > dist))
    step = Mux(ltp, w + delta[:W], w - delta[:W])[:W]  # exact modulo 2^W
    return Mux(bounded, Mux(ltp, rule.w_max, rule.w_min), step)


def weight_step(
    m: Module, spec: CoreSpec, rule, ltp: Value, w: Value, product: Value, seen: Value, valid: Value, name=""
):
    """``(updated, write)``: the new weight of a synapse (:func:`weight_delta`, then
    :func:`bounded_weight`, in one cycle) and whether to write it: ``valid`` (the synapse is
    walked and plastic) and, for a window rule, ``seen`` (the partner's trace is not 0)."""
    delta, dist = weight_delta(m, spec, rule, ltp, w, product, name)
    return bounded_weight(spec, rule, ltp, w, delta, dist), writes(rule, seen, valid)


def writes(rule, seen: Value, valid: Value) -> Value:
    """Whether a walked synapse is written: a window rule acts only on a partner trace above 0."""
    return valid & (seen | ~rule.flags[1])


def bumped_trace(spec: CoreSpec, rule, post: Value, trace: Value) -> Value:
    """The trace of an element that spiked: ``trace`` bumped by its rule (phase 5d).

    ``post``: a postsynaptic trace (``bump_post``), else presynaptic (``bump_pre``). A window
    rule or pair "nearest" sets it, pair "all" adds and saturates at ``trace_max``.
    """
    bump = Mux(post, rule.bump_post, rule.bump_pre)
    replace = rule.flags[1] | rule.flags[3]  # window, or pair "nearest"
    total = (trace + bump)[: spec.trace_bits + 1]  # the carry says trace_max is passed
    return Mux(replace, bump, Mux(total[spec.trace_bits], spec.trace_max, total[: spec.trace_bits]))


def window_by_product(spec: CoreSpec) -> bool:
    """Whether a window rule's decay ``max(x - 1, 0)`` is the product ``(x * (2^C - 1)) >> C``
    (exact for ``x < 2^C``: every trace when ``trace_bits <= coef_bits``)."""
    return spec.trace_bits <= spec.coef_bits


def trace_factor(
    m: Module, spec: CoreSpec, rule, *, decaying: Value, resetting: Value, post: Value
) -> Signal:
    """The factor a learning datapath multiplies a trace by: a decay's coefficient
    (``decaying``; 0 when ``resetting`` clears the traces, ``2^C - 1`` for a window rule),
    else a walk's amplitude (a ``post`` partner trace: depression's ``A-``, else ``A+``)."""
    C = spec.coef_bits
    factor = Signal(unsigned(max(C, spec.stdp_amp_bits)))
    with m.If(decaying):
        with m.If(resetting):
            m.d.comb += factor.eq(0)  # clearing: every trace becomes 0
        with m.Elif(rule.flags[1] & window_by_product(spec)):
            m.d.comb += factor.eq((1 << C) - 1)
        with m.Else():
            m.d.comb += factor.eq(Mux(post, rule.decay_post, rule.decay_pre))
    with m.Else():
        m.d.comb += factor.eq(Mux(post, rule.amp_minus, rule.amp_plus))
    return factor
