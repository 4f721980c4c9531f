"""The integer helpers of docs/core-arithmetic.md on torch int64 tensors.

The torch twins of :mod:`snn.sim.intmath` (``sat_B`` is ``torch.clamp``). ``>>`` on a
signed torch integer is an arithmetic shift (floor division by a power of two), on the
CPU and on CUDA, so the definitions carry over unchanged.
"""

from __future__ import annotations

import torch


def rnd(x: torch.Tensor, k: int) -> torch.Tensor:
    """Round ``x / 2**k`` to nearest, halves towards +inf: ``(x + 2**(k-1)) >> k``."""
    return (x + (1 << (k - 1))) >> k


def trunc(x: torch.Tensor, k: int) -> torch.Tensor:
    """Divide ``x`` by ``2**k``, truncating towards zero (decays reach exactly 0)."""
    return torch.where(x >= 0, x >> k, -((-x) >> k))
