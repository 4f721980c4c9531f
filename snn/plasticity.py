"""Spike-timing-dependent plasticity rules attached to projections.

Weights, bounds and amplitudes are in mV (the unit of synaptic weights). Both rules are
pair-based and event-driven: each presynaptic neuron keeps a trace ``x`` and each
postsynaptic neuron a trace ``y``; a post spike potentiates from ``x`` and a pre spike
depresses from ``y``. ``docs/core-arithmetic.md`` gives the exact order inside a step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from .errors import NetworkError


def _finite(where: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NetworkError(f"{where}: {name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise NetworkError(f"{where}: {name} is {value}, give a finite number")
    return float(value)


class STDPRule:
    """Base class of plasticity rules."""

    kind: ClassVar[str] = ""
    w_min: float
    w_max: float

    def check(self, where: str) -> None:
        """Validate the parameters (raise :class:`NetworkError`)."""
        self.w_min = _finite(where, "w_min", self.w_min)
        self.w_max = _finite(where, "w_max", self.w_max)
        if self.w_max < self.w_min:
            raise NetworkError(f"{where}: w_max ({self.w_max}) is below w_min ({self.w_min})")

    def params(self) -> dict:
        """Parameters for the file format (without the kind)."""
        raise NotImplementedError


@dataclass
class PairSTDP(STDPRule):
    """Trace-based pair STDP.

    For ``dt = t_post - t_pre > 0`` a pair changes the weight by ``+a_plus*exp(-dt/tau_plus)``,
    for ``dt < 0`` by ``-a_minus*exp(dt/tau_minus)`` (``dt = 0``: no change).

    ``mode="additive"`` clips the weight to ``[w_min, w_max]``; ``"multiplicative"`` scales
    potentiation by ``(w_max - w)/(w_max - w_min)`` and depression by
    ``(w - w_min)/(w_max - w_min)`` (soft bounds). ``pairing="all"`` sums over all pairs
    (traces add 1 per spike); ``"nearest"`` keeps only the nearest spike (traces reset to 1).
    """

    a_plus: float = 0.01
    a_minus: float = 0.012
    tau_plus: float = 20.0
    tau_minus: float = 20.0
    w_min: float = 0.0
    w_max: float = 1.0
    mode: str = "additive"
    pairing: str = "all"
    kind: ClassVar[str] = "pair"

    def check(self, where: str) -> None:
        """Validate the parameters (see :meth:`STDPRule.check`)."""
        super().check(where)
        for name in ("a_plus", "a_minus"):
            v = _finite(where, name, getattr(self, name))
            if v < 0:
                raise NetworkError(f"{where}: {name} must be >= 0 (the sign is built in), got {v}")
            setattr(self, name, v)
        for name in ("tau_plus", "tau_minus"):
            v = _finite(where, name, getattr(self, name))
            if v <= 0:
                raise NetworkError(f"{where}: {name} must be > 0 ms, got {v}")
            setattr(self, name, v)
        if self.mode not in ("additive", "multiplicative"):
            raise NetworkError(f"{where}: mode must be 'additive' or 'multiplicative', got {self.mode!r}")
        if self.pairing not in ("all", "nearest"):
            raise NetworkError(f"{where}: pairing must be 'all' or 'nearest', got {self.pairing!r}")
        if self.mode == "multiplicative" and self.w_max == self.w_min:
            raise NetworkError(f"{where}: multiplicative STDP needs w_max > w_min")

    def params(self) -> dict:
        """Parameters for the file format, with units in the keys."""
        return {
            "a_plus_mV": self.a_plus,
            "a_minus_mV": self.a_minus,
            "tau_plus_ms": self.tau_plus,
            "tau_minus_ms": self.tau_minus,
            "w_min_mV": self.w_min,
            "w_max_mV": self.w_max,
            "mode": self.mode,
            "pairing": self.pairing,
        }


@dataclass
class WindowSTDP(STDPRule):
    """NeuroCoreX-style rectangular STDP window, additive with hard bounds.

    A post spike adds ``dw_plus`` for each pre spike ``1..window_pre`` timesteps before it;
    a pre spike subtracts ``dw_minus`` for each post spike ``1..window_post`` steps before it.
    With ``pairing="nearest"`` semantics inherent to a window: each neuron remembers only
    its most recent spike, so a pair counts once.
    """

    dw_plus: float = 0.01
    dw_minus: float = 0.01
    window_pre: int = 20
    window_post: int = 20
    w_min: float = 0.0
    w_max: float = 1.0
    kind: ClassVar[str] = "window"

    def check(self, where: str) -> None:
        """Validate the parameters (see :meth:`STDPRule.check`)."""
        super().check(where)
        for name in ("dw_plus", "dw_minus"):
            v = _finite(where, name, getattr(self, name))
            if v < 0:
                raise NetworkError(f"{where}: {name} must be >= 0 (the sign is built in), got {v}")
            setattr(self, name, v)
        for name in ("window_pre", "window_post"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise NetworkError(f"{where}: {name} must be an integer >= 1 (timesteps), got {v!r}")

    def params(self) -> dict:
        """Parameters for the file format, with units in the keys."""
        return {
            "dw_plus_mV": self.dw_plus,
            "dw_minus_mV": self.dw_minus,
            "window_pre_steps": self.window_pre,
            "window_post_steps": self.window_post,
            "w_min_mV": self.w_min,
            "w_max_mV": self.w_max,
        }


RULES: dict[str, type[STDPRule]] = {PairSTDP.kind: PairSTDP, WindowSTDP.kind: WindowSTDP}
