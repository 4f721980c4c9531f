"""Resolve a :class:`snn.Network` into flat arrays that executors consume.

Neurons of all LIF groups are numbered in declaration order (``0..n_neurons-1``);
spike sources likewise (``0..n_sources-1``). Presynaptic indices are global:
neuron ``j`` is ``j``, source ``s`` is ``n_neurons + s``. Synapses are stored in CSR
order (by presynaptic index, then projection, then postsynaptic index), and
``BuiltNetwork.projection_weights`` maps them back to each projection's own order.

Every random draw comes from a generator seeded by ``(network seed, purpose, index)``
(or the object's own seed), so the same seed gives the same network on every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import NetworkError
from .network import Network
from .plasticity import STDPRule
from .populations import LIF_PARAMETERS, LIFGroup, PoissonSource, SpikeSource
from .values import resolve

_SEED_POPULATION, _SEED_PROJECTION, _SEED_POISSON = 1, 2, 3


# synapses per chunk while building: the transient arrays of a chunk (pairs, keys, drawn
# weights, positions) take about 40 MB; the network's own arrays are allocated once, at
# their final size and dtype, and filled chunk by chunk
CHUNK = 1 << 19


@dataclass
class BuiltNetwork:
    """A network as arrays. ``params[name]`` holds each LIF parameter per neuron (float64).

    Per synapse the build keeps only what the kernels read: ``syn_post`` (int32) and
    ``syn_weight`` (float64, or the dtype asked of :func:`build`); per-synapse delays only
    when a projection gives an array of them. A row holds its projections one after the
    other (declaration order), so the projection of each synapse is kept per row and
    projection, not per synapse: row ``k``'s segments ``proj_seg_ptr[k]:proj_seg_ptr[k+1]``
    are ``proj_seg_len[i]`` synapses of projection ``proj_seg[i]`` each. ``syn_proj``,
    ``syn_exc``, ``syn_rule`` and ``syn_delay`` are derived from them on demand (full
    arrays: for tools, not the hot path).
    """

    network: Network
    n_neurons: int
    n_sources: int
    n_steps: int
    dt: float
    params: dict[str, np.ndarray]
    lif_slices: dict[str, slice]
    source_slices: dict[str, slice]
    # input spikes, CSR by timestep: sources spiking at step n are
    # input_ids[input_ptr[n]:input_ptr[n+1]] (0-based source indices, ascending)
    input_ptr: np.ndarray
    input_ids: np.ndarray
    # synapses in CSR order over the global presynaptic index (int64 row pointers)
    syn_ptr: np.ndarray
    syn_post: np.ndarray  # int32
    syn_weight: np.ndarray
    proj_seg_ptr: np.ndarray  # int64 (n_pre + 1): each row's segments of one projection
    proj_seg: np.ndarray  # projection of each segment (int8, int16 or int32)
    proj_seg_len: np.ndarray  # int32: its number of synapses
    proj_exc: np.ndarray  # bool per projection: excitatory target
    proj_rule: np.ndarray  # int64 per projection: index into ``rules`` or -1 (static)
    proj_delay: np.ndarray  # int64 per projection: its delay, 0 where per-synapse (``syn_delays``)
    proj_size: np.ndarray  # int64 per projection: its number of synapses
    syn_delays: np.ndarray | None  # per-synapse delays (int16/int32) when a projection has an array
    rules: list[STDPRule]

    def __post_init__(self) -> None:
        self._positions: dict[str, np.ndarray] = {}

    @property
    def n_synapses(self) -> int:
        """Number of synapses."""
        return int(self.syn_post.size)

    @property
    def syn_proj(self) -> np.ndarray:
        """Per synapse: its projection's index (a full array, narrowest int)."""
        return np.repeat(self.proj_seg, self.proj_seg_len)

    def syn_proj_rows(self, r0: int, r1: int) -> np.ndarray:
        """The projection index of each synapse of rows ``r0:r1`` (only those synapses)."""
        i0, i1 = self.proj_seg_ptr[r0], self.proj_seg_ptr[r1]
        return np.repeat(self.proj_seg[i0:i1], self.proj_seg_len[i0:i1])

    @property
    def syn_exc(self) -> np.ndarray:
        """Per synapse: excitatory target (bool; a full array, derived from ``syn_proj``)."""
        return self.proj_exc[self.syn_proj]

    @property
    def syn_rule(self) -> np.ndarray:
        """Per synapse: STDP rule index or -1 (int64; a full array, derived from ``syn_proj``)."""
        return self.proj_rule[self.syn_proj]

    @property
    def syn_delay(self) -> np.ndarray:
        """Per synapse: delay in timesteps (int64; a full array)."""
        if self.syn_delays is not None:
            return self.syn_delays.astype(np.int64)
        return self.proj_delay[self.syn_proj]

    @property
    def max_delay(self) -> int:
        """Largest delay in timesteps (1 when there are no synapses)."""
        if self.syn_delays is not None:
            return int(self.syn_delays.max()) if self.syn_delays.size else 1
        used = self.proj_size > 0
        return int(self.proj_delay[used].max()) if np.any(used) else 1

    @property
    def uniform_delay(self) -> int:
        """The delay shared by every synapse, or 0 when delays differ (1 without synapses)."""
        if self.syn_delays is not None:
            d = self.syn_delays
            return int(d[0]) if d.size and bool(np.all(d == d[0])) else (1 if not d.size else 0)
        if not self.n_synapses:
            return 1
        used = np.unique(self.proj_delay[self.proj_size > 0])
        return int(used[0]) if used.size == 1 else 0

    @property
    def proj_positions(self) -> Mapping[str, np.ndarray]:
        """Natural (per-projection) synapse order -> CSR position: ``{name: positions}``, computed on access."""
        return _Positions(self)

    def positions(self, name: str) -> np.ndarray:
        """CSR positions of projection ``name``'s synapses, in its own (natural) order (cached).

        Its synapses sit in CSR order sorted by (pre, post); when the connectivity rule
        lists them in another order, its pairs are drawn again (same seed, same pairs).
        """
        if name not in self._positions:
            index = list(self.network.projections).index(name)
            csr = np.flatnonzero(self.syn_proj == index)
            if _natural_is_sorted(self.network, index):
                self._positions[name] = csr
            else:
                proj = self.network.projections[name]
                n_post = self.network.population(proj.post).n
                pre, post = _all_pairs(self.network, index)
                out = np.empty(csr.size, np.int64)
                out[np.argsort(pre * n_post + post, kind="stable")] = csr
                self._positions[name] = out
        return self._positions[name]

    def projection_weights(self, name: str, weights: np.ndarray | None = None) -> np.ndarray:
        """Weights of one projection, in its own synapse order (from CSR-ordered ``weights``)."""
        w = self.syn_weight if weights is None else weights
        return w[self.positions(name)]

    def projection_pairs(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(pre, post)`` indices of a projection's synapses within their populations."""
        proj = self.network.projections[name]
        pos = self.positions(name)
        pre_global = np.searchsorted(self.syn_ptr, pos, side="right") - 1
        pre_start = self.global_start(proj.pre)
        post_start = self.lif_slices[proj.post].start
        return pre_global - pre_start, self.syn_post[pos].astype(np.int64) - post_start

    def global_start(self, population: str) -> int:
        """Global presynaptic index of the first element of a population."""
        if population in self.lif_slices:
            return self.lif_slices[population].start
        return self.n_neurons + self.source_slices[population].start


class _Positions(Mapping):
    """``BuiltNetwork.proj_positions``: each projection's positions, computed when first asked for."""

    def __init__(self, built: BuiltNetwork) -> None:
        self._built = built

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._built.network.projections:
            raise KeyError(name)
        return self._built.positions(name)

    def __iter__(self):
        return iter(self._built.network.projections)

    def __len__(self) -> int:
        return len(self._built.network.projections)


def build(net: Network, weight_dtype=np.float64) -> BuiltNetwork:
    """Resolve ``net`` (rules, distributions, Poisson trains) into a :class:`BuiltNetwork`.

    Weights are drawn in float64 and stored as ``weight_dtype`` (float64 or float32; the
    simulator asks for its own dtype, so that no float64 copy of them is ever held).
    """
    net.check_recordings()
    lif_slices, source_slices = {}, {}
    start = 0
    for group in net.lif_groups:
        lif_slices[group.name] = slice(start, start + group.n)
        start += group.n
    n_neurons = start
    start = 0
    for src in net.sources:
        source_slices[src.name] = slice(start, start + src.n)
        start += src.n
    n_sources = start

    params = {name: np.empty(n_neurons) for name in LIF_PARAMETERS}
    for index, group in enumerate(net.populations.values()):
        if isinstance(group, LIFGroup):
            rng = np.random.default_rng([net.seed, _SEED_POPULATION, index])
            for name in LIF_PARAMETERS:
                params[name][lif_slices[group.name]] = resolve(getattr(group, name), group.n, rng)
    for name in ("tau_m", "tau_syn_e", "tau_syn_i"):
        if params[name].size and (params[name].min() < 0 or (name == "tau_m" and params[name].min() == 0)):
            raise NetworkError(f"{name}: a drawn value is <= 0 ms; choose a distribution that stays positive")

    input_ptr, input_ids = input_events(net, source_slices, n_sources)
    synapses = _synapses(net, lif_slices, source_slices, n_neurons, n_sources, np.dtype(weight_dtype))
    return BuiltNetwork(
        network=net,
        n_neurons=n_neurons,
        n_sources=n_sources,
        n_steps=net.n_steps,
        dt=net.dt,
        params=params,
        lif_slices=lif_slices,
        source_slices=source_slices,
        input_ptr=input_ptr,
        input_ids=input_ids,
        **synapses,
    )


def input_events(net: Network, slices: dict[str, slice], n_sources: int) -> tuple[np.ndarray, np.ndarray]:
    """The spikes of ``net``'s sources as a CSR table over timesteps: ``(ptr, ids)`` with
    the sources of step ``n`` in ``ids[ptr[n]:ptr[n+1]]`` (ascending, int64).

    ``slices`` gives each source population's global source indices (``source_slices``
    of :class:`BuiltNetwork`). Poisson sources are drawn from their own seed, else from
    ``net.seed``, as :func:`build` draws them (the torch backend calls this on per-trial
    copies of a network). Raises :class:`NetworkError` for a rate above ``1/dt`` or a
    source that spikes twice in one step.
    """
    n_steps = net.n_steps
    all_ids, all_steps = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for index, src in enumerate(net.populations.values()):
        offset = slices[src.name].start if src.name in slices else 0
        if isinstance(src, PoissonSource):
            seed = src.seed if src.seed is not None else [net.seed, _SEED_POISSON, index]
            ids, steps = poisson_steps(src.rate, src.n, net.dt, n_steps, np.random.default_rng(seed))
            where = f"population {src.name!r}"
            if np.max(np.atleast_1d(src.rate)) * net.dt / 1000.0 > 1.0:
                raise NetworkError(
                    f"{where}: rate above 1/dt = {1000.0 / net.dt:g} Hz; lower it or reduce dt"
                )
        elif isinstance(src, SpikeSource):
            ids = src.ids
            steps = src.steps if src.steps is not None else np.rint(src.times / net.dt).astype(np.int64)
            keep = steps < n_steps
            ids, steps = ids[keep], steps[keep]
            key = steps * src.n + ids
            uniq, counts = np.unique(key, return_counts=True)
            if np.any(counts > 1):
                dup = uniq[counts > 1][0]
                raise NetworkError(
                    f"population {src.name!r}: source {dup % src.n} spikes twice in timestep {dup // src.n}; "
                    "at most one spike per source and timestep"
                )
        else:
            continue
        all_ids.append(ids + offset)
        all_steps.append(steps)
    ids = np.concatenate(all_ids)
    steps = np.concatenate(all_steps)
    order = np.lexsort((ids, steps))
    ids, steps = ids[order], steps[order]
    ptr = np.zeros(n_steps + 1, np.int64)
    np.cumsum(np.bincount(steps, minlength=n_steps)[:n_steps], out=ptr[1:])
    return ptr, ids.astype(np.int64)


def poisson_steps(rate, n: int, dt: float, n_steps: int, rng: np.random.Generator):
    """Bernoulli spike trains with ``p = rate*dt`` per step; returns ``(ids, steps)``.

    Drawn by geometric gaps, so the cost follows the number of spikes.
    """
    p = np.broadcast_to(np.asarray(rate, float) * dt / 1000.0, (n,)).copy()
    ids_out, steps_out = [], []
    active = np.flatnonzero(p > 0)
    last = np.full(n, -1, np.int64)
    while active.size:
        expected = int(np.max(p[active]) * n_steps * 1.1) + 8
        gaps = rng.geometric(np.minimum(p[active], 1.0)[:, None], size=(active.size, expected))
        np.minimum(gaps, n_steps + 1, out=gaps)  # a tiny p saturates at the int64 maximum: no wrap
        times = last[active, None] + np.cumsum(gaps, axis=1)
        inside = times < n_steps
        rows, cols = np.nonzero(inside)
        ids_out.append(active[rows])
        steps_out.append(times[rows, cols])
        last[active] = times[:, -1]
        active = active[times[:, -1] < n_steps]
    if not ids_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ids_out).astype(np.int64), np.concatenate(steps_out).astype(np.int64)


def _projection_rng(net: Network, index: int) -> np.random.Generator:
    proj = list(net.projections.values())[index]
    return np.random.default_rng(proj.seed if proj.seed is not None else [net.seed, _SEED_PROJECTION, index])


def _pair_chunks(net: Network, index: int, rng: np.random.Generator):
    """The ``(pre, post)`` pairs of projection ``index`` in its natural order, in chunks.

    Rules with a ``chunks`` method draw large projections chunk by chunk (the same pairs
    and the same generator state as ``pairs``); others give one chunk.
    """
    proj = list(net.projections.values())[index]
    pre_n, post_n = net.population(proj.pre).n, net.population(proj.post).n
    conn, same = proj.connectivity, proj.pre == proj.post
    try:
        if hasattr(conn, "chunks"):
            yield from conn.chunks(pre_n, post_n, same, rng, CHUNK)
        else:
            yield conn.pairs(pre_n, post_n, same, rng)
    except NetworkError as exc:
        raise NetworkError(f"projection {proj.name!r}: {exc}") from None


def _all_pairs(net: Network, index: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of projection ``index`` (drawn again from its seed), natural order."""
    chunks = list(_pair_chunks(net, index, _projection_rng(net, index)))
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


def _natural_is_sorted(net: Network, index: int) -> bool:
    """Whether the rule of projection ``index`` lists its pairs sorted by (pre, post)."""
    return getattr(list(net.projections.values())[index].connectivity, "sorted_pairs", False)


def _sorted_key(pre: np.ndarray, post: np.ndarray, n_post: int) -> np.ndarray | None:
    """The (pre, post) sort order of a chunk, or None when it is sorted already."""
    key = pre * n_post + post
    if key.size < 2 or bool(np.all(key[1:] > key[:-1])):
        return None
    return np.argsort(key, kind="stable")


def _chunk_values(value, offset: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Values ``offset:offset+n`` of a projection's weights (scalar, array or distribution).

    Distributions draw ``n`` more values from ``rng``: drawn chunk by chunk, the values
    are those of one draw of all of them (each value takes its own draws, in order).
    """
    if isinstance(value, np.ndarray):
        return np.asarray(value[offset : offset + n], np.float64)
    return resolve(value, n, rng)


def _projection_segments(projs, starts: list[int], counts: list[np.ndarray], n_pre: int):
    """Each row's synapses as segments of one projection, in declaration order (see BuiltNetwork).

    A row of population P holds one segment per projection leaving P (empty ones included).
    """
    by_start: dict[int, list[int]] = {}
    for index, start in enumerate(starts):
        by_start.setdefault(start, []).append(index)
    per_row = np.zeros(n_pre, np.int64)
    for start, indices in by_start.items():
        per_row[start : start + counts[indices[0]].size] = len(indices)
    seg_ptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(per_row, out=seg_ptr[1:])
    seg_proj = np.zeros(int(seg_ptr[-1]), np.min_scalar_type(-max(len(projs), 1)))
    seg_len = np.zeros(int(seg_ptr[-1]), np.int32)
    for start, indices in by_start.items():
        n = counts[indices[0]].size
        base = seg_ptr[start]
        for k, index in enumerate(indices):  # segment k of each row of this population
            seg_proj[base + k : base + k + n * len(indices) : len(indices)] = index
            seg_len[base + k : base + k + n * len(indices) : len(indices)] = counts[index]
    return seg_ptr, seg_proj, seg_len


def _synapses(net: Network, lif_slices, source_slices, n_neurons: int, n_sources: int, weight_dtype) -> dict:
    """The synapses in CSR order, built in place in two passes over each projection's pairs.

    Pass 1 counts the synapses of every row (drawing the pairs; the generator then holds
    the state from which the weights are drawn, as when the pairs were drawn at once).
    The arrays are then allocated at their final size and dtype, and pass 2 draws the
    pairs again (same seed) and writes each chunk at its place: rows in presynaptic
    order, in each row the projections in declaration order, each sorted by target.
    """
    projs = list(net.projections.values())
    n_pre = n_neurons + n_sources
    starts = [
        lif_slices[p.pre].start if p.pre in lif_slices else n_neurons + source_slices[p.pre].start
        for p in projs
    ]
    row_counts = np.zeros(n_pre, np.int64)
    proj_counts = []  # per projection: synapses of each of its rows
    weight_rngs, sizes = [], []
    for index, proj in enumerate(projs):
        where = f"projection {proj.name!r}"
        pre_n = net.population(proj.pre).n
        rng = _projection_rng(net, index)
        n_syn = 0
        counts = np.zeros(pre_n, np.int64)
        for pre, _ in _pair_chunks(net, index, rng):
            counts += np.bincount(pre, minlength=pre_n)
            n_syn += pre.size
        row_counts[starts[index] : starts[index] + pre_n] += counts
        proj_counts.append(counts.astype(np.int32))
        del counts
        for what, value in (("weights", proj.weight), ("delays", proj.delay)):
            if isinstance(value, np.ndarray) and value.size != n_syn:
                raise NetworkError(f"{where}: shape mismatch, {value.size} {what} for {n_syn} synapses")
        weight_rngs.append(rng)
        sizes.append(n_syn)
    n_syn = int(row_counts.sum())
    ptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(row_counts, out=ptr[1:])
    del row_counts
    post_out = np.empty(n_syn, np.int32)
    weight_out = np.empty(n_syn, weight_dtype)
    seg_ptr, seg_proj, seg_len = _projection_segments(projs, starts, proj_counts, n_pre)
    del proj_counts
    rules: list[STDPRule] = []
    proj_rule = np.full(len(projs), -1, np.int64)
    proj_delay = np.zeros(len(projs), np.int64)
    per_synapse_delays = any(isinstance(p.delay, np.ndarray) for p in projs)
    delays_out = None
    if per_synapse_delays:
        top = max(int(np.max(p.delay, initial=1)) for p in projs)
        delays_out = np.empty(n_syn, np.int16 if top < 2**15 else np.int32)
    fill = ptr[:-1].copy()  # next free position of each row
    for index, proj in enumerate(projs):
        if proj.stdp is not None:
            rules.append(proj.stdp)
            proj_rule[index] = len(rules) - 1
        if not isinstance(proj.delay, np.ndarray):
            proj_delay[index] = int(proj.delay)
        pre_n = net.population(proj.pre).n
        post_start = lif_slices[proj.post].start
        n_post = net.population(proj.post).n
        chunks = _pair_chunks(net, index, _projection_rng(net, index))
        if not _natural_is_sorted(net, index):  # one chunk, sorted here
            pre, post = _all_pairs(net, index)
            chunks = iter([(pre, post)])
        offset = 0
        for pre, post in chunks:
            n = pre.size
            w = _chunk_values(proj.weight, offset, n, weight_rngs[index])
            d = proj.delay[offset : offset + n] if isinstance(proj.delay, np.ndarray) else None
            order = _sorted_key(pre, post, n_post)
            if order is not None:
                pre, post, w = pre[order], post[order], w[order]
                d = d[order] if d is not None else None
            rows = pre + starts[index]
            # position: the row's next free one plus the rank among the row's synapses in
            # this chunk (rows ascending: the distance to the row's first one in the chunk)
            first = np.zeros(n, np.int64)
            if n:
                first[1:] = np.where(rows[1:] != rows[:-1], np.arange(1, n), 0)
            pos = fill[rows] + np.arange(n) - np.maximum.accumulate(first)
            fill[starts[index] : starts[index] + pre_n] += np.bincount(pre, minlength=pre_n)
            post_out[pos] = post + post_start
            weight_out[pos] = w
            if delays_out is not None:
                delays_out[pos] = d if d is not None else proj_delay[index]
            offset += n
        del chunks
    return dict(
        syn_ptr=ptr,
        syn_post=post_out,
        syn_weight=weight_out,
        proj_seg_ptr=seg_ptr,
        proj_seg=seg_proj,
        proj_seg_len=seg_len,
        proj_exc=np.array([p.target == "exc" for p in projs], bool),
        proj_rule=proj_rule,
        proj_delay=proj_delay,
        proj_size=np.array(sizes, np.int64),
        syn_delays=delays_out,
        rules=rules,
    )
