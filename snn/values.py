"""Parameter values: scalars, per-element arrays and seeded random distributions.

A parameter of a population or projection is a Python float (shared by every element),
a 1-D array with one value per element, or a distribution (:class:`Uniform`,
:class:`Normal`) drawn when the network is built, from the network's seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import NetworkError


@dataclass(frozen=True)
class Uniform:
    """Values drawn uniformly from ``[low, high)`` when the network is built."""

    low: float
    high: float

    def __post_init__(self) -> None:
        for v in (self.low, self.high):
            if not math.isfinite(v):
                raise NetworkError(f"Uniform({self.low}, {self.high}): bounds must be finite numbers")
        if self.high < self.low:
            raise NetworkError(f"Uniform({self.low}, {self.high}): high is below low; swap the bounds")

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        return rng.uniform(self.low, self.high, size=n)

    def to_dict(self) -> dict:
        """Inline-table form for the network file."""
        return {"uniform": [float(self.low), float(self.high)]}


@dataclass(frozen=True)
class Normal:
    """Values drawn from a normal distribution when the network is built."""

    mean: float
    std: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and math.isfinite(self.std)):
            raise NetworkError(f"Normal({self.mean}, {self.std}): parameters must be finite")
        if self.std < 0:
            raise NetworkError(f"Normal({self.mean}, {self.std}): std must be >= 0")

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        return rng.normal(self.mean, self.std, size=n)

    def to_dict(self) -> dict:
        """Inline-table form for the network file."""
        return {"normal": [float(self.mean), float(self.std)]}


Distribution = Uniform | Normal
Value = float | np.ndarray | Distribution


def check_value(
    where: str,
    value: object,
    n: int | None,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    allow_distribution: bool = True,
) -> Value:
    """Validate a parameter value and return it in canonical form.

    ``where`` names the parameter in messages (``"population 'exc': tau_m"``); ``n`` is
    the length that an array must have (``None``: any length).
    """
    if isinstance(value, (Uniform, Normal)):
        if not allow_distribution:
            raise NetworkError(f"{where}: a random distribution is not allowed here; give numbers")
        if positive and isinstance(value, Uniform) and value.low <= 0:
            raise NetworkError(f"{where}: must be > 0, but {value} can draw {value.low}")
        return value
    if isinstance(value, bool):
        raise NetworkError(f"{where}: expected a number, got a boolean")
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        _check_numbers(where, np.array([v]), positive, nonnegative)
        return v
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise NetworkError(f"{where}: expected numbers, got {type(value).__name__}") from None
        if arr.ndim != 1:
            raise NetworkError(f"{where}: expected a 1-D array, got shape {arr.shape}")
        if n is not None and arr.shape[0] != n:
            raise NetworkError(
                f"{where}: shape mismatch, expected {n} values (one per element), got {arr.shape[0]}"
            )
        _check_numbers(where, arr, positive, nonnegative)
        return arr
    raise NetworkError(f"{where}: expected a number or an array, got {type(value).__name__}")


def _check_numbers(where: str, arr: np.ndarray, positive: bool, nonnegative: bool) -> None:
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)][0]
        raise NetworkError(f"{where}: {bad} is not a finite number (NaN/inf); give finite values")
    if positive and np.any(arr <= 0):
        raise NetworkError(f"{where}: must be > 0, got {arr[arr <= 0][0]:g}")
    if nonnegative and np.any(arr < 0):
        raise NetworkError(f"{where}: must be >= 0, got {arr[arr < 0][0]:g}")


def resolve(value: Value, n: int, rng: np.random.Generator) -> np.ndarray:
    """Turn a validated value into a float64 array of length ``n``."""
    if isinstance(value, (Uniform, Normal)):
        return value.draw(rng, n)
    if isinstance(value, np.ndarray):
        return value.astype(np.float64, copy=True)
    return np.full(n, float(value))
