"""Limits checked before anything is allocated: numeric ranges and a memory budget.

A network that cannot run should fail at once with one line that gives the figures, not
after minutes in a ``MemoryError`` traceback (or a hang). Two kinds of checks live here:

- numeric ranges that every executor relies on (:data:`MAX_STEPS`, :data:`MIN_DT_MS`,
  :data:`MAX_SEED`), checked by :class:`snn.Network` and the populations when they are
  created, so a file and an API call fail alike;
- :func:`check_memory`: an estimate of the memory a network needs
  (:func:`estimate_memory`: neurons, synapses, recorded data, spike-source arrays),
  computed from the description alone, against a budget (:func:`memory_budget`). The
  estimate is a floor (bytes that building and simulating the network certainly take),
  so a network it rejects cannot run on this machine; the budget defaults to the
  machine's available memory and is overridden by the ``SNN_MEMORY_BUDGET`` environment
  variable (``"8G"``, ``"512M"``, a number of bytes, or ``"off"``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from .errors import NetworkError

# The most timesteps a run may have: timestep counters are 32-bit on the core and in the
# recorded data (about 24.8 days of network time at dt = 1 ms).
MAX_STEPS = 2**31 - 1
# The smallest timestep in ms (1 ns): below it the refractory and delay counters of any
# realistic neuron overflow.
MIN_DT_MS = 1e-6
# Seeds are unsigned 64-bit numbers (numpy's SeedSequence takes any integer >= 0).
MAX_SEED = 2**64 - 1
# The most elements of one population: neuron indices are 32-bit in the simulator's layout.
MAX_POPULATION = 2**31 - 1
BUDGET_ENV = "SNN_MEMORY_BUDGET"

# Bytes of the estimate, per element (floors: what building and simulating certainly hold).
BYTES_PER_NEURON = 96  # 9 float64 parameters while building, v/i_e/i_i and counters after
BYTES_PER_SYNAPSE = 16  # postsynaptic index and weight in the layout, plus the build's sort order
BYTES_PER_SOURCE = 8  # a row pointer
BYTES_PER_INPUT_SPIKE = 16  # source index and step while the input trains are built
BYTES_PER_STEP = 8  # the input spikes' per-step pointer
BYTES_PER_SAMPLE = 4  # one recorded float32/int32 value (state, weights, rates)


def check_steps(where: str, duration: float, dt: float) -> int:
    """The number of timesteps of ``duration`` ms at ``dt`` ms, checked against :data:`MAX_STEPS`."""
    steps = duration / dt
    if not math.isfinite(steps) or steps > MAX_STEPS:
        raise NetworkError(
            f"{where}: duration {duration:g} ms at dt {dt:g} ms is {steps:.3g} timesteps, "
            f"more than the limit of {MAX_STEPS:,}; shorten the duration or raise dt"
        )
    return int(round(steps))


def check_seed(where: str, seed: object, optional: bool = False) -> int | None:
    """A seed: an integer in ``[0, MAX_SEED]`` (or ``None`` where ``optional``)."""
    if seed is None and optional:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        what = "an integer in [0, 2**64 - 1]" + (" or None" if optional else "")
        raise NetworkError(f"{where}: seed must be {what}, got {seed!r}")
    return int(seed)


def check_step_values(where: str, values: np.ndarray) -> np.ndarray:
    """Spike steps given as numbers: whole, >= 0 and at most :data:`MAX_STEPS`, as int64."""
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, np.int64)
    if arr.dtype.kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
    elif arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise NetworkError(
                f"{where}: {arr[~np.isfinite(arr)][0]} is not a finite number; give whole steps"
            )
        if not np.all(arr == np.round(arr)):
            raise NetworkError(f"{where}: {arr[arr != np.round(arr)][0]:g} is not a whole number of steps")
        lo, hi = float(arr.min()), float(arr.max())
    else:
        raise NetworkError(f"{where}: expected integers, got {arr.dtype}")
    if lo < 0:
        raise NetworkError(f"{where}: steps must be >= 0, got {lo:g}")
    if hi > MAX_STEPS:
        raise NetworkError(f"{where}: step {hi:g} is beyond the limit of {MAX_STEPS:,} timesteps")
    return arr.astype(np.int64)


# -- memory --------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a network needs at least, by item (see the module docstring)."""

    neurons: int
    synapses: int
    recordings: int
    inputs: int

    @property
    def total(self) -> int:
        """The sum of the items."""
        return self.neurons + self.synapses + self.recordings + self.inputs

    def describe(self) -> str:
        """``neurons 1.2 GB, synapses ...`` for messages."""
        return ", ".join(
            f"{name} {format_bytes(getattr(self, name))}"
            for name in ("neurons", "synapses", "recordings", "inputs")
            if getattr(self, name)
        )


def expected_synapses(connectivity: object, n_pre: int, n_post: int, same: bool) -> int:
    """How many synapses a connectivity rule makes (the mean for random rules)."""
    from .connectivity import AllToAll, FixedInDegree, FixedProbability, OneToOne, Sparse

    if isinstance(connectivity, AllToAll):
        return n_pre * n_post - (min(n_pre, n_post) if same and not connectivity.allow_self else 0)
    if isinstance(connectivity, OneToOne):
        return n_pre
    if isinstance(connectivity, FixedProbability):
        return int(float(connectivity.p) * n_pre * n_post)
    if isinstance(connectivity, FixedInDegree):
        return int(connectivity.k) * n_post
    if isinstance(connectivity, Sparse):
        return int(connectivity.pre.size)
    return 0  # a rule this estimate does not know: counted when it is built


def estimate_memory(net, n_steps: int | None = None) -> MemoryEstimate:
    """A floor of the memory that building and simulating ``net`` for ``n_steps`` take."""
    from .populations import LIFGroup, PoissonSource, SpikeSource

    steps = net.n_steps if n_steps is None else n_steps
    pops = net.populations
    n_neurons = sum(p.n for p in pops.values() if isinstance(p, LIFGroup))
    max_delay = 1
    synapses = 0
    per_projection = {}
    for proj in net.projections.values():
        n = expected_synapses(proj.connectivity, pops[proj.pre].n, pops[proj.post].n, proj.pre == proj.post)
        per_projection[proj.name] = n
        synapses += n
        max_delay = max(max_delay, int(np.max(proj.delay)) if np.size(proj.delay) else 1)
    inputs = BYTES_PER_STEP * (steps + 1)
    for pop in pops.values():
        if isinstance(pop, PoissonSource):
            mean_rate = float(np.mean(pop.rate))
            inputs += int(BYTES_PER_INPUT_SPIKE * pop.n * min(mean_rate * net.dt / 1000.0, 1.0) * steps)
        elif isinstance(pop, SpikeSource):
            inputs += BYTES_PER_INPUT_SPIKE * pop.ids.size
        if not isinstance(pop, LIFGroup):
            inputs += BYTES_PER_SOURCE * pop.n
    rec = net.recordings
    samples = sum(p.neurons.size * len(p.variables) * (steps // max(p.every, 1) + 1) for p in rec.state)
    samples += sum(
        per_projection.get(p.projection, 0) * ((steps // p.every if p.every else 0) + 1) for p in rec.weights
    )
    samples += len(rec.rates) * steps
    return MemoryEstimate(
        neurons=BYTES_PER_NEURON * n_neurons + BYTES_PER_SAMPLE * n_neurons * max_delay,
        synapses=BYTES_PER_SYNAPSE * synapses,
        recordings=BYTES_PER_SAMPLE * samples,
        inputs=inputs,
    )


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_bytes(text: str) -> int | None:
    """``"8G"``, ``"512M"``, ``"1.5GB"``, ``"1000000"`` -> bytes; ``"off"``/``"none"`` -> None."""
    s = text.strip().upper().replace("IB", "").replace(" ", "")
    if s in ("OFF", "NONE"):
        return None
    if s.endswith("B") and s[:-1][-1:] in "KMGT" and len(s) > 1:
        s = s[:-1]
    unit = s[-1:] if s[-1:] in "KMGTB" else ""
    try:
        value = float(s[: len(s) - len(unit)])
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise NetworkError(
            f"{BUDGET_ENV}={text!r} is not a memory size; give bytes with an optional unit (8G, 512M) or 'off'"
        )
    return int(value * _UNITS[unit])


def memory_budget() -> int | None:
    """The budget in bytes: ``SNN_MEMORY_BUDGET`` if set, else the available memory (None: no check)."""
    text = os.environ.get(BUDGET_ENV)
    if text is not None and text.strip():
        return parse_bytes(text)
    return available_memory()


def check_memory(net, n_steps: int | None = None, budget: int | None | str = "default") -> MemoryEstimate:
    """Raise a one-line :class:`NetworkError` if ``net`` needs more than the budget.

    ``budget``: bytes, None for no check, or ``"default"`` (:func:`memory_budget`).
    Returns the estimate.
    """
    estimate = estimate_memory(net, n_steps)
    limit = memory_budget() if budget == "default" else budget
    if limit is not None and estimate.total > limit:
        source = (
            f"set by {BUDGET_ENV}"
            if budget == "default" and os.environ.get(BUDGET_ENV, "").strip()
            else "the memory available on this machine"
        )
        raise NetworkError(
            f"network needs at least {format_bytes(estimate.total)} ({estimate.describe()}), more than the "
            f"budget of {format_bytes(limit)} ({source}); make it smaller, record less, or raise {BUDGET_ENV}"
        )
    return estimate


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``; up to EiB (larger figures stay in EiB)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"
