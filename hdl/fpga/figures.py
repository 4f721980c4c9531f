"""Throughput and latency a build implies, from ``hdl.timing.step_cycles``.

The core runs at the build's clock; ``Fmax`` says how far that clock could go. Worst
case at an activity ``a``: ``ceil(a N)`` neurons and ``ceil(a K)`` inputs spike in the
step, and, with STDP, both rules are on and every spiking row and column is plastic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hdl.timing import step_cycles
from hdl.weight_memory import banked
from snn.core_spec import CoreSpec

#: the activities every report gives (spiking fraction of neurons and of inputs per step)
ACTIVITIES = (0.01, 0.1, 0.3)


def worst_spikes(spec: CoreSpec, activity: float) -> tuple[int, int]:
    """``(neuron spikes, input spikes)`` of a worst-case step at ``activity``."""
    return math.ceil(activity * spec.max_neurons), math.ceil(activity * spec.max_inputs)


def worst_step_cycles(spec: CoreSpec, activity: float) -> int:
    """Cycles of a timestep with a fraction ``activity`` of neurons and inputs spiking."""
    k, n = spec.max_inputs, spec.max_neurons
    s, i = worst_spikes(spec, activity)
    return step_cycles(
        k,
        n,
        s,
        i,
        stdp=spec.stdp,
        ff_rule=spec.stdp,
        rec_rule=spec.stdp,
        ltd_ff_rows=i,
        ltd_rec_rows=s,
        ltp_ff_cols=s,
        ltp_rec_cols=s,
        banked=banked(n),
        lanes=spec.lanes,
    )


def worst_step_synops(spec: CoreSpec, activity: float) -> int:
    """Synaptic operations of that step: every spiking source's row propagated (``N`` each)
    plus, with STDP, every weight updated (LTD rows of the spiking sources, LTP columns of
    the spiking neurons, in both matrices)."""
    k, n = spec.max_inputs, spec.max_neurons
    s, i = worst_spikes(spec, activity)
    ops = (s + i) * n
    if spec.stdp:
        ops += i * n + s * k + 2 * s * n
    return ops


@dataclass(frozen=True)
class Figures:
    """Derived figures of one build at clock ``clock_hz`` (and at ``fmax_hz`` if known)."""

    spec: CoreSpec
    clock_hz: float
    fmax_hz: float | None
    activity: float

    def at(self, activity: float) -> Figures:
        """The same build's figures at another activity."""
        return Figures(self.spec, self.clock_hz, self.fmax_hz, activity)

    @property
    def synops_per_cycle(self) -> float:
        """Synaptic operations (propagated weights and STDP weight updates) per cycle of the
        worst-case step at ``activity``."""
        return worst_step_synops(self.spec, self.activity) / self.step_cycles

    def synops_per_s(self, clock_hz: float) -> float:
        """Synaptic operations per second at ``clock_hz`` (at ``activity``, updates included)."""
        return self.synops_per_cycle * clock_hz

    @property
    def step_cycles(self) -> int:
        """Worst-case cycles per timestep at ``activity``."""
        return worst_step_cycles(self.spec, self.activity)

    def step_seconds(self, clock_hz: float) -> float:
        """Worst-case timestep latency at ``clock_hz``."""
        return self.step_cycles / clock_hz

    def realtime_factor(self, dt_s: float, clock_hz: float) -> float:
        """Simulated time per wall-clock time (> 1: faster than real time) at step ``dt_s``."""
        return dt_s / self.step_seconds(clock_hz)

    def _entries(self) -> dict:
        out = {"step_cycles": self.step_cycles, "synops_per_cycle": self.synops_per_cycle}
        for tag, clock in (("clock", self.clock_hz), ("fmax", self.fmax_hz)):
            if clock:
                out[f"synops_per_s_{tag}"] = self.synops_per_s(clock)
                out[f"step_us_{tag}"] = self.step_seconds(clock) * 1e6
                out[f"realtime_1ms_{tag}"] = self.realtime_factor(1e-3, clock)
                out[f"realtime_100us_{tag}"] = self.realtime_factor(1e-4, clock)
        return out

    def to_dict(self) -> dict:
        """Plain data for ``--json``: the figures at ``activity`` and, under ``by_activity``, at
        each of :data:`ACTIVITIES`; ``*_fmax`` entries when Fmax is known."""
        return {
            "activity": self.activity,
            **self._entries(),
            "by_activity": {f"{a:g}": self.at(a)._entries() for a in ACTIVITIES},
        }
