"""What a simulation records: spikes, state variables, population rates, weights."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import NetworkError

STATE_VARIABLES = ("v", "i_e", "i_i")


@dataclass
class StateProbe:
    """Record ``variables`` of the chosen ``neurons`` of a LIF population every ``every`` steps."""

    population: str
    variables: tuple[str, ...] = ("v",)
    neurons: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    every: int = 1

    def __post_init__(self) -> None:
        where = f"state recording of {self.population!r}"
        if isinstance(self.variables, str):
            self.variables = (self.variables,)
        self.variables = tuple(self.variables)
        for var in self.variables:
            if var not in STATE_VARIABLES:
                raise NetworkError(
                    f"{where}: unknown variable {var!r}; choose from {', '.join(STATE_VARIABLES)}"
                )
        self.neurons = np.asarray(self.neurons, dtype=np.int64).ravel()
        if isinstance(self.every, bool) or not isinstance(self.every, (int, np.integer)) or self.every < 1:
            raise NetworkError(f"{where}: every must be an integer >= 1 (timesteps), got {self.every!r}")
        self.every = int(self.every)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StateProbe)
            and (self.population, self.variables, self.every)
            == (other.population, other.variables, other.every)
            and np.array_equal(self.neurons, other.neurons)
        )


@dataclass
class WeightProbe:
    """Snapshot all weights of a projection every ``every`` steps (0: only at the end)."""

    projection: str
    every: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, (int, np.integer)) or self.every < 0:
            raise NetworkError(
                f"weight recording of {self.projection!r}: every must be an integer >= 0, got {self.every!r}"
            )
        self.every = int(self.every)


@dataclass
class Recordings:
    """Everything a network asks to record."""

    spikes: list[str] = field(default_factory=list)
    rates: list[str] = field(default_factory=list)
    state: list[StateProbe] = field(default_factory=list)
    weights: list[WeightProbe] = field(default_factory=list)
