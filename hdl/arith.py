"""The integer helpers of docs/core-arithmetic.md as Amaranth expressions.

``sat``, ``rnd`` and ``trunc`` build combinational logic with exactly the document's
meaning; every engine uses these, so the rounding rules live in one place. ``sat`` and
``trunc`` read the top bits instead of comparing (fewer cells on the iCE40 UP5K).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Mux, Value


def fits(x: Value, bits: int) -> Value:
    """Whether signed ``x`` fits ``bits`` bits: its bits from ``bits - 1`` up all equal."""
    top = x[bits - 1 :]
    return top.all() | ~top.any()


def clip(x: Value, bits: int, inside: Value, negative: Value) -> Value:
    """``x[:bits]`` if ``inside``, else the end of the signed ``bits``-bit range on the ``negative`` side."""
    return Mux(inside, x[:bits], Cat(~negative.replicate(bits - 1), negative)).as_signed()


def sat(x: Value, bits: int) -> Value:
    """``sat_B(x)`` of docs/core-arithmetic.md (``x`` signed), by its top bits: no comparator."""
    return clip(x, bits, fits(x, bits), x[-1])


def trunc(x: Value, k: int, bits: int) -> Value:
    """``trunc_k(x)`` (``x`` signed) to ``bits`` bits: ``x >> k``, plus 1 if negative with a remainder."""
    return (x[k : k + bits].as_signed() + (x[-1] & x[:k].any()))[:bits].as_signed()


def rnd(x: Value, k: int) -> Value:
    """``rnd_k(x) = (x + 2^(k-1)) >> k`` (arithmetic shift when signed: halves go towards +inf),
    as ``(x >> k) + x[k-1]``: the same integer (the half carries out of the low ``k`` bits
    exactly when bit ``k-1`` is set) from an adder of the high bits only."""
    return (x >> k) + x[k - 1]
