"""Populations: groups of LIF neurons and spike sources.

Units: times in ms, potentials and synaptic currents in mV (currents are expressed as
the voltage they would produce across the membrane resistance, as in Brian2's CUBA
model), rates in Hz.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .errors import NetworkError
from .limits import MAX_POPULATION, MIN_DT_MS, check_seed, check_step_values
from .values import Normal, Uniform, Value, check_value


def check_name(kind: str, name: object) -> str:
    """Validate a population/projection name: a non-empty identifier-like string."""
    if not isinstance(name, str) or not name:
        raise NetworkError(f"{kind} name must be a non-empty string, got {name!r}")
    if not name.replace("_", "a").replace("-", "a").isalnum():
        raise NetworkError(f"{kind} name {name!r}: use only letters, digits, '_' and '-'")
    return name


def check_count(where: str, n: object) -> int:
    """Validate a population size."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise NetworkError(f"{where}: n must be an integer, got {type(n).__name__}")
    if n < 1:
        raise NetworkError(f"{where}: n must be >= 1, got {n}")
    if n > MAX_POPULATION:
        raise NetworkError(
            f"{where}: n = {n:,} is more than the limit of {MAX_POPULATION:,} per population "
            "(indices are 32-bit); split the network or make it smaller"
        )
    return int(n)


@dataclass
class Population:
    """Common part of every population: a unique name and a size."""

    name: str
    n: int
    kind: ClassVar[str] = ""

    def _where(self) -> str:
        return f"population {self.name!r}"


# Parameters of a LIF group, with their units and constraints, in one table that the
# API, the file format and the documentation share.
LIF_PARAMETERS: dict[str, tuple[str, str, float]] = {
    # name: (unit, constraint, default)
    "tau_m": ("ms", "positive", 20.0),
    "tau_syn_e": ("ms", "nonnegative", 5.0),  # 0: delta synapses (float mode)
    "tau_syn_i": ("ms", "nonnegative", 10.0),
    "v_rest": ("mV", "", -65.0),
    "v_thresh": ("mV", "", -50.0),
    "v_reset": ("mV", "", -65.0),
    "t_ref": ("ms", "nonnegative", 2.0),
    "i_bias": ("mV", "", 0.0),
    "v_init": ("mV", "", -65.0),
}


@dataclass
class LIFGroup(Population):
    """Leaky integrate-and-fire neurons with current-based exponential synapses.

    ``tau_m * dv/dt = v_rest - v + i_e + i_i + i_bias``; ``tau_syn_e * di_e/dt = -i_e``
    (likewise ``i_i``). ``tau_syn_e = 0`` (or ``tau_syn_i``) makes those synapses delta
    synapses: a weight ``w`` arriving at a step adds ``w`` to ``v`` in that step's update,
    with no current (float mode only; docs/core-arithmetic.md). A spike is emitted when ``v >= v_thresh``; then ``v = v_reset``
    and ``v`` is held for ``t_ref``. Every parameter is a float, a per-neuron array or a
    distribution (``v_init`` typically ``Uniform(...)``).
    """

    tau_m: Value = 20.0
    tau_syn_e: Value = 5.0
    tau_syn_i: Value = 10.0
    v_rest: Value = -65.0
    v_thresh: Value = -50.0
    v_reset: Value = -65.0
    t_ref: Value = 2.0
    i_bias: Value = 0.0
    v_init: Value = -65.0
    kind: ClassVar[str] = "lif"

    def __post_init__(self) -> None:
        check_name("population", self.name)
        self.n = check_count(self._where(), self.n)
        for pname, (_unit, constraint, _default) in LIF_PARAMETERS.items():
            value = check_value(
                f"{self._where()}: {pname}",
                getattr(self, pname),
                self.n,
                positive=constraint == "positive",
                nonnegative=constraint == "nonnegative",
                allow_distribution=True,
            )
            if pname.startswith("tau"):
                _check_time_constant(f"{self._where()}: {pname}", value)
            setattr(self, pname, value)


@dataclass
class PoissonSource(Population):
    """Independent Poisson spike trains (at most one spike per source and timestep).

    ``rate`` in Hz (scalar or per source). ``seed`` makes the trains independent of the
    network's seed; ``None`` derives them from it.
    """

    rate: Value = 10.0
    seed: int | None = None
    kind: ClassVar[str] = "poisson"

    def __post_init__(self) -> None:
        check_name("population", self.name)
        self.n = check_count(self._where(), self.n)
        self.rate = check_value(
            f"{self._where()}: rate", self.rate, self.n, nonnegative=True, allow_distribution=False
        )
        self.seed = check_seed(self._where(), self.seed, optional=True)


@dataclass
class SpikeSource(Population):
    """Explicit spike trains: parallel arrays of source indices and spike times.

    Give ``times`` (ms, rounded to the nearest timestep when built) or ``steps``
    (timestep indices), not both. ``SpikeSource.from_trains`` takes one list per source.
    """

    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    times: np.ndarray | None = None
    steps: np.ndarray | None = None
    kind: ClassVar[str] = "spikes"

    def __post_init__(self) -> None:
        check_name("population", self.name)
        self.n = check_count(self._where(), self.n)
        where = self._where()
        if (self.times is None) == (self.steps is None):
            raise NetworkError(f"{where}: give spike 'times' (ms) or 'steps', exactly one of them")
        self.ids = _int_array(f"{where}: ids", self.ids)
        if self.steps is not None:
            self.steps = _int_array(f"{where}: steps", self.steps, check_step_values)
            when = self.steps
        else:
            self.times = np.asarray(
                check_value(f"{where}: times", np.asarray(self.times, float).ravel(), None, nonnegative=True)
            )
            when = self.times
        if when.shape != self.ids.shape:
            raise NetworkError(f"{where}: shape mismatch, {self.ids.size} ids but {when.size} spike times")
        if self.ids.size and (self.ids.min() < 0 or self.ids.max() >= self.n):
            bad = self.ids[(self.ids < 0) | (self.ids >= self.n)][0]
            raise NetworkError(f"{where}: index {bad} out of range [0, {self.n})")

    @classmethod
    def from_trains(cls, name: str, trains: list, *, in_steps: bool = False) -> SpikeSource:
        """One list of spike times (ms, or timesteps with ``in_steps``) per source."""
        ids = np.concatenate(
            [np.full(len(t), i, np.int64) for i, t in enumerate(trains)] or [np.zeros(0, np.int64)]
        )
        when = np.concatenate([np.asarray(t, float) for t in trains] or [np.zeros(0)])
        if in_steps:
            return cls(name, len(trains), ids=ids, steps=when)
        return cls(name, len(trains), ids=ids, times=when)


def _check_time_constant(where: str, value: Value) -> None:
    """A time constant is 0 (tau_syn: delta synapses) or at least MIN_DT_MS: a tinier one
    overflows dt / tau."""
    if isinstance(value, Normal):
        return  # drawn when built; build checks what was drawn
    values = np.atleast_1d(np.asarray(value.low if isinstance(value, Uniform) else value, np.float64))
    tiny = values[(values > 0) & (values < MIN_DT_MS)]
    if tiny.size:
        raise NetworkError(f"{where}: {tiny[0]:g} ms is below the smallest time constant of {MIN_DT_MS:g} ms")


def _int_array(where: str, value: object, convert=None) -> np.ndarray:
    """A 1-D array of whole numbers as int64; ``convert(where, arr)`` checks and converts it."""
    arr = np.asarray(value)
    if arr.size == 0:
        return np.zeros(0, np.int64)
    if arr.ndim != 1:
        raise NetworkError(f"{where}: expected a 1-D array, got shape {arr.shape}")
    if convert is not None:
        return convert(where, arr)
    too_big = arr.dtype.kind in "uf" and (
        not np.all(np.isfinite(arr)) or float(np.max(np.abs(arr))) >= 2.0**63
    )
    if too_big:
        raise NetworkError(
            f"{where}: expected integers that fit 64 bits, got {arr.dtype} values out of range"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        if (
            np.issubdtype(arr.dtype, np.floating)
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        ):
            return arr.astype(np.int64)
        raise NetworkError(f"{where}: expected integers, got {arr.dtype}")
    return arr.astype(np.int64)
