"""Comparisons with a constant as logic, not as a carry chain.

Yosys turns every ``<``/``>=`` into an adder's carry chain, one iCE40 logic cell per bit
of the operand even when the other side is a constant (a 10-bit ``pos < 5`` takes 10
cells). :func:`below` builds ``x < c`` for a constant ``c`` from equality tests of ``x``'s
high bits instead, which the LUT mapper folds into a few LUT4s (four such compares: 30
cells -> 9). Use it where a compare with a constant sits in a control path.
"""

from __future__ import annotations

import operator
from functools import reduce

from amaranth.hdl import Const, Value


def below(x: Value, c: int) -> Value:
    """``x < c`` for an unsigned ``x`` and a constant ``c``: true when, at the highest bit
    where they differ, ``c`` has a 1 and ``x`` a 0."""
    x = Value.cast(x)
    if c <= 0:
        return Const(0, 1)
    if c >= 1 << len(x):
        return Const(1, 1)
    terms = []
    for i in range(len(x)):
        if (c >> i) & 1:
            term = ~x[i]
            if i + 1 < len(x):
                term = term & (x[i + 1 :] == (c >> (i + 1)))
            terms.append(term)
    return reduce(operator.or_, terms)


def at_least(x: Value, c: int) -> Value:
    """``x >= c`` (unsigned ``x``, constant ``c``)."""
    return ~below(x, c)
