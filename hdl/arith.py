"""The integer helpers of docs/core-arithmetic.md as Amaranth expressions.

``sat``, ``rnd`` and ``trunc`` build combinational logic with exactly the document's
meaning; every engine uses these, so the rounding rules live in one place.
"""

from __future__ import annotations

from amaranth.hdl import Mux, Value


def sat(x: Value, bits: int) -> Value:
    """``sat_B(x)``: clamp a signed value to the range of ``bits`` bits."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return Mux(x < lo, lo, Mux(x > hi, hi, x))[:bits].as_signed()


def rnd(x: Value, k: int) -> Value:
    """``rnd_k(x) = (x + 2^(k-1)) >> k`` (arithmetic shift when signed: halves go towards +inf)."""
    return (x + (1 << (k - 1))) >> k


def trunc(x: Value, k: int) -> Value:
    """``trunc_k(x)``: divide by ``2^k`` truncating towards zero (``x`` signed)."""
    return (x + Mux(x < 0, (1 << k) - 1, 0)) >> k


def clamp(x: Value, lo: Value, hi: Value, width: int) -> Value:
    """Clamp ``x`` to ``[lo, hi]`` (run-time bounds) as a signed value of ``width`` bits."""
    return Mux(x < lo, lo, Mux(x > hi, hi, x))[:width].as_signed()
