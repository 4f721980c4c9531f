"""The network description: populations, projections, plasticity, recordings, time.

One :class:`Network` feeds every executor (numba simulator, torch backend, the
hardware core). Build it with the API or load it from a file (:mod:`snn.io`)::

    net = snn.Network(dt=0.1, duration=1000.0, seed=1)
    exc = net.lif("exc", 3200, v_rest=-49.0, v_init=snn.Uniform(-60.0, -50.0))
    net.connect("ee", exc, exc, snn.FixedProbability(0.02), weight=1.62)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .connectivity import AllToAll, Connectivity
from .errors import NetworkError
from .limits import MAX_STEPS, MIN_DT_MS, check_memory, check_seed, check_steps
from .plasticity import STDPRule
from .populations import LIFGroup, PoissonSource, Population, SpikeSource, check_name
from .recording import Recordings, StateProbe, WeightProbe
from .values import Normal, Uniform, Value, check_value

# The largest synaptic delay, in timesteps, that any executor accepts.
MAX_DELAY_STEPS = 4096

PopulationRef = str | Population


@dataclass
class Projection:
    """Synapses from population ``pre`` to LIF population ``post``.

    ``weight`` (mV) is a float, one value per synapse, a ``(n_pre, n_post)`` matrix for
    :class:`AllToAll`, or a distribution. Weights of ``target="exc"`` projections add to
    ``i_e`` and must be >= 0; those of ``target="inh"`` add to ``i_i`` and must be <= 0.
    ``delay`` is in timesteps (>= 1), per projection or per synapse.
    """

    name: str
    pre: str
    post: str
    connectivity: Connectivity
    weight: Value = 1.0
    delay: int | np.ndarray = 1
    target: str = "exc"
    stdp: STDPRule | None = None
    seed: int | None = None


@dataclass
class Network:
    """A complete network description. Times in ms, potentials in mV, rates in Hz."""

    dt: float = 0.1
    duration: float = 100.0
    seed: int = 0
    populations: dict[str, Population] = field(default_factory=dict)
    projections: dict[str, Projection] = field(default_factory=dict)
    recordings: Recordings = field(default_factory=Recordings)

    def __post_init__(self) -> None:
        for name in ("dt", "duration"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise NetworkError(f"network: {name} must be a number > 0 (ms), got {v!r}")
            setattr(self, name, float(v))
        if self.dt < MIN_DT_MS:
            raise NetworkError(
                f"network: dt {self.dt:g} ms is below the smallest timestep of {MIN_DT_MS:g} ms"
            )
        check_steps("network", self.duration, self.dt)
        self.seed = check_seed("network", self.seed)

    # -- time ----------------------------------------------------------------------------
    @property
    def n_steps(self) -> int:
        """Number of timesteps in ``duration`` (at most :data:`snn.limits.MAX_STEPS`)."""
        return check_steps("network", self.duration, self.dt)

    # -- populations ---------------------------------------------------------------------
    def add(self, population: Population) -> Population:
        """Add a population; names are unique across populations."""
        if population.name in self.populations:
            raise NetworkError(
                f"duplicate population name {population.name!r}; give each population its own name"
            )
        self._check_timing(population)
        self.populations[population.name] = population
        return population

    def _check_timing(self, pop: Population) -> None:
        """Values that meet ``dt``: Poisson rates, spike times and refractory periods in steps."""
        where = f"population {pop.name!r}"
        if isinstance(pop, PoissonSource) and np.size(pop.rate):
            top = float(np.max(pop.rate))
            if top * self.dt / 1000.0 > 1.0:
                raise NetworkError(
                    f"{where}: rate {top:g} Hz is above 1/dt = {1000.0 / self.dt:g} Hz; lower it or reduce dt"
                )
        elif isinstance(pop, SpikeSource) and pop.times is not None and pop.times.size:
            last = float(pop.times.max())
            if last / self.dt > MAX_STEPS:
                raise NetworkError(
                    f"{where}: spike time {last:g} ms is beyond the limit of {MAX_STEPS:,} timesteps "
                    f"of {self.dt:g} ms; drop spikes after the run's end"
                )
        elif isinstance(pop, LIFGroup):
            t_ref = pop.t_ref
            top = (
                t_ref.high
                if isinstance(t_ref, Uniform)
                else None
                if isinstance(t_ref, Normal)
                else np.max(t_ref)
            )
            if top is not None and float(top) / self.dt > MAX_STEPS:
                raise NetworkError(
                    f"{where}: t_ref {float(top):g} ms is longer than {MAX_STEPS:,} timesteps of {self.dt:g} ms"
                )

    def lif(self, name: str, n: int, **params: Value) -> LIFGroup:
        """Add a :class:`LIFGroup` (parameters: see ``snn.populations.LIF_PARAMETERS``)."""
        return self.add(LIFGroup(name, n, **params))  # type: ignore[return-value]

    def poisson(self, name: str, n: int, rate: Value, seed: int | None = None) -> PoissonSource:
        """Add ``n`` Poisson spike sources at ``rate`` Hz."""
        return self.add(PoissonSource(name, n, rate=rate, seed=seed))  # type: ignore[return-value]

    def spikes(self, name: str, n: int, ids, *, times=None, steps=None) -> SpikeSource:
        """Add explicit spike trains (``times`` in ms or ``steps``)."""
        return self.add(SpikeSource(name, n, ids=ids, times=times, steps=steps))  # type: ignore[return-value]

    def population(self, ref: PopulationRef) -> Population:
        """Look a population up by name (or pass one through)."""
        name = ref.name if isinstance(ref, Population) else ref
        try:
            return self.populations[name]
        except KeyError:
            known = ", ".join(self.populations) or "none yet"
            raise NetworkError(f"unknown population {name!r} (known: {known})") from None

    @property
    def lif_groups(self) -> list[LIFGroup]:
        """LIF populations in declaration order (their neurons are numbered in this order)."""
        return [p for p in self.populations.values() if isinstance(p, LIFGroup)]

    @property
    def sources(self) -> list[Population]:
        """Spike-source populations in declaration order."""
        return [p for p in self.populations.values() if not isinstance(p, LIFGroup)]

    # -- projections ---------------------------------------------------------------------
    def connect(
        self,
        name: str,
        pre: PopulationRef,
        post: PopulationRef,
        connectivity: Connectivity | None = None,
        *,
        weight: Value = 1.0,
        delay: int | np.ndarray = 1,
        target: str = "exc",
        stdp: STDPRule | None = None,
        seed: int | None = None,
    ) -> Projection:
        """Add a projection (see :class:`Projection`); returns it."""
        check_name("projection", name)
        if name in self.projections:
            raise NetworkError(f"duplicate projection name {name!r}; give each projection its own name")
        pre_pop, post_pop = self.population(pre), self.population(post)
        proj = Projection(
            name, pre_pop.name, post_pop.name, connectivity or AllToAll(), weight, delay, target, stdp, seed
        )
        self._check_projection(proj, pre_pop, post_pop)
        self.projections[name] = proj
        return proj

    def _check_projection(self, proj: Projection, pre: Population, post: Population) -> None:
        where = f"projection {proj.name!r}"
        if not isinstance(post, LIFGroup):
            raise NetworkError(
                f"{where}: post population {post.name!r} is a spike source; targets must be LIF groups"
            )
        if not isinstance(proj.connectivity, Connectivity):
            raise NetworkError(f"{where}: connectivity must be a rule such as snn.AllToAll()")
        proj.connectivity.check(where, pre.n, post.n)
        if proj.target not in ("exc", "inh"):
            raise NetworkError(f"{where}: target must be 'exc' or 'inh', got {proj.target!r}")
        proj.seed = check_seed(where, proj.seed, optional=True)
        w = proj.weight
        if isinstance(w, (list, tuple, np.ndarray)) and np.ndim(w) == 2:
            if not isinstance(proj.connectivity, AllToAll) or not proj.connectivity.allow_self:
                raise NetworkError(
                    f"{where}: a weight matrix needs all_to_all connectivity (with self connections)"
                )
            w = np.asarray(w, dtype=np.float64)
            if w.shape != (pre.n, post.n):
                raise NetworkError(
                    f"{where}: shape mismatch, weight matrix is {w.shape}, expected ({pre.n}, {post.n})"
                )
            proj.weight = check_value(f"{where}: weight", w.ravel(), None)
        else:
            proj.weight = check_value(f"{where}: weight", w, None)
        self._check_sign(where, proj)
        proj.delay = _check_delay(where, proj.delay)
        if proj.stdp is not None:
            if not isinstance(proj.stdp, STDPRule):
                raise NetworkError(f"{where}: stdp must be snn.PairSTDP(...) or snn.WindowSTDP(...)")
            proj.stdp.check(f"{where}: stdp")
            bound_ok = proj.stdp.w_min >= 0 if proj.target == "exc" else proj.stdp.w_max <= 0
            if not bound_ok:
                raise NetworkError(
                    f"{where}: stdp bounds [{proj.stdp.w_min}, {proj.stdp.w_max}] cross zero; "
                    f"keep {'w_min >= 0' if proj.target == 'exc' else 'w_max <= 0'} for an {proj.target} projection"
                )

    @staticmethod
    def _check_sign(where: str, proj: Projection) -> None:
        w = proj.weight
        if isinstance(w, Normal):
            if w.std > 0:
                raise NetworkError(
                    f"{where}: a normal weight distribution can change sign; use Uniform bounds"
                )
            lo = hi = w.mean
        elif isinstance(w, Uniform):
            lo, hi = w.low, w.high
        else:
            arr = np.atleast_1d(np.asarray(w, np.float64))
            lo, hi = (arr.min(), arr.max()) if arr.size else (0.0, 0.0)
        if proj.target == "exc" and lo < 0:
            raise NetworkError(
                f"{where}: excitatory weights must be >= 0 mV (found {lo:g}); use target='inh' for negative weights"
            )
        if proj.target == "inh" and hi > 0:
            raise NetworkError(
                f"{where}: inhibitory weights must be <= 0 mV (found {hi:g}); use target='exc' for positive weights"
            )

    # -- recordings ----------------------------------------------------------------------
    def record_spikes(self, *populations: PopulationRef) -> None:
        """Record the spikes of these populations (default: every LIF group)."""
        for ref in populations or self.lif_groups:
            name = self.population(ref).name
            if name not in self.recordings.spikes:
                self.recordings.spikes.append(name)

    def record_rate(self, *populations: PopulationRef) -> None:
        """Record the population rate (spikes per step, in Hz) of LIF groups."""
        for ref in populations:
            name = self._lif(ref, "rate recording").name
            if name not in self.recordings.rates:
                self.recordings.rates.append(name)

    def record_state(self, population: PopulationRef, variables=("v",), neurons=None, every: int = 1) -> None:
        """Record ``v``, ``i_e`` and/or ``i_i`` of chosen neurons (default: all)."""
        pop = self._lif(population, "state recording")
        idx = np.arange(pop.n) if neurons is None else np.asarray(neurons, np.int64).ravel()
        probe = StateProbe(pop.name, variables, idx, every)
        _check_indices(f"state recording of {pop.name!r}", probe.neurons, pop.n)
        self.recordings.state.append(probe)

    def record_weights(self, projection: str | Projection, every: int = 0) -> None:
        """Snapshot the weights of a projection every ``every`` steps and at the end."""
        name = projection.name if isinstance(projection, Projection) else projection
        if name not in self.projections:
            raise NetworkError(f"weight recording: unknown projection {name!r}")
        self.recordings.weights.append(WeightProbe(name, every))

    def _lif(self, ref: PopulationRef, what: str) -> LIFGroup:
        pop = self.population(ref)
        if not isinstance(pop, LIFGroup):
            raise NetworkError(f"{what}: population {pop.name!r} is a spike source, not a LIF group")
        return pop

    def check_recordings(self) -> None:
        """Validate recordings against the populations (used after loading a file)."""
        for name in self.recordings.spikes:
            self.population(name)
        for name in self.recordings.rates:
            self._lif(name, "rate recording")
        for probe in self.recordings.state:
            pop = self._lif(probe.population, "state recording")
            _check_indices(f"state recording of {pop.name!r}", probe.neurons, pop.n)
        for wp in self.recordings.weights:
            if wp.projection not in self.projections:
                raise NetworkError(f"weight recording: unknown projection {wp.projection!r}")

    # -- summaries -----------------------------------------------------------------------
    @property
    def n_neurons(self) -> int:
        """Number of LIF neurons."""
        return sum(p.n for p in self.lif_groups)

    @property
    def n_sources(self) -> int:
        """Number of spike sources."""
        return sum(p.n for p in self.sources)

    def build(self):
        """Resolve rules, distributions and spike trains into arrays (:class:`snn.build.BuiltNetwork`).

        The network's memory is estimated first (:func:`snn.limits.check_memory`): one that
        cannot fit the budget fails at once, before anything is allocated.
        """
        from .build import build

        check_memory(self)
        return build(self)


def _check_delay(where: str, delay: object) -> int | np.ndarray:
    if isinstance(delay, bool):
        raise NetworkError(f"{where}: delay must be an integer number of timesteps, got a boolean")
    if isinstance(delay, (int, np.integer)):
        arr = np.array([delay], np.int64)
    else:
        arr = np.asarray(delay)
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise NetworkError(f"{where}: delay must be an integer or a 1-D integer array (timesteps)")
        arr = arr.astype(np.int64)
    if arr.size and arr.min() < 1:
        raise NetworkError(f"{where}: delay must be >= 1 timestep, got {arr.min()}")
    if arr.size and arr.max() > MAX_DELAY_STEPS:
        raise NetworkError(f"{where}: delay {arr.max()} exceeds the maximum of {MAX_DELAY_STEPS} timesteps")
    return int(arr[0]) if isinstance(delay, (int, np.integer)) else arr


def _check_indices(where: str, idx: np.ndarray, n: int) -> None:
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)][0]
        raise NetworkError(f"{where}: neuron index {bad} out of range [0, {n})")
