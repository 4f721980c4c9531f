"""The integer helpers of docs/core-arithmetic.md (``sat_B``, ``rnd_k``, ``trunc_k``).

Defined once and used by every fixed-point kernel, so that the rounding rules live in
one place. Arguments are int64; ``>>`` on a signed numba int64 is an arithmetic shift.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def sat(x, lo, hi):
    """Clamp ``x`` to ``[lo, hi]`` (the signed range of a width)."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


@njit(cache=True, inline="always")
def rnd(x, k):
    """Round ``x / 2**k`` to nearest, halves towards +inf: ``(x + 2**(k-1)) >> k``."""
    return (x + (1 << (k - 1))) >> k


@njit(cache=True, inline="always")
def trunc(x, k):
    """Divide ``x`` by ``2**k``, truncating towards zero (decays reach exactly 0)."""
    if x >= 0:
        return x >> k
    return -((-x) >> k)
