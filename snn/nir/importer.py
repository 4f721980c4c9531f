"""NIR graph -> :class:`snn.Network` (see docs/nir.md for the mapping and the time conventions).

Every NIR neuron node becomes a LIF group, every ``Input`` node an external spike source
of the same name (spikes given at run time: ``simulate(net, inputs={"input": x})``),
and the stateless nodes between them (Affine, Linear, Scale, Flatten, Delay, Conv1d/2d,
SumPool2d/AvgPool2d) are multiplied out into projections. The neuron parameters are the
exact image of NIR's ODEs integrated by forward Euler at ``dt`` (what snnTorch and Norse
export): ``v <- (1 - dt/tau) v + dt/tau (v_leak + r I)``, current first for CubaLIF.

Our synapses deliver a spike the step after it (delay >= 1), NIR's edges within the step:
so each population runs ``lag`` steps behind NIR time (``Imported.lags``), one step per
layer of a feed-forward chain; delays are chosen so that every projection sees the NIR
timing exactly. A recurrent edge with no ``Delay`` node on its path carries one step
(nirtorch's and snnTorch's convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..connectivity import Sparse
from ..errors import NetworkError
from ..network import Network
from ..quantize import propagators
from .linear import LINEAR_TYPES, transfer

NEURON_TYPES = ("LIF", "CubaLIF", "IF")
BIAS = "bias"  # the source that spikes every step and carries Affine/Conv biases
# IF has no leak: tau_m so long that exp(-dt/tau_m) is 1.0 in float64
IF_TAU_M = 1e300


@dataclass
class Imported:
    """What :func:`read` returns: the network and how its time relates to the graph's.

    ``lags[pop]``: population ``pop`` at step ``n + lags[pop]`` is the NIR node at step
    ``n`` (0 for inputs; one more per feed-forward layer). ``dt`` in the graph's unit
    (seconds for snnTorch and Norse), ``network.dt`` in ms.
    """

    network: Network
    lags: dict[str, int]
    dt: float
    names: dict[str, str] = field(default_factory=dict)  # NIR node -> population

    def report(self) -> str:
        """One line per population: its NIR node and lag."""
        rows = [f"dt = {self.dt:g} (graph time unit) = {self.network.dt:g} ms"]
        for node, pop in self.names.items():
            rows.append(f"  {node} -> {pop}: lag {self.lags[pop]} step(s)")
        return "\n".join(rows)


def read(source, dt: float | None = None, *, duration_steps: int = 100, seed: int = 0) -> Imported:
    """Import a NIR graph (a file path or a ``nir.NIRGraph``) at timestep ``dt`` (graph time unit).

    ``dt`` defaults to the graph's ``metadata["dt"]``; neither exporter writes one, and
    snnTorch's numbers assume ``dt = 1e-4`` s. The network lasts ``duration_steps`` steps
    unless run-time inputs say otherwise.
    """
    import nir

    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise NetworkError(f"NIR file {path} not found")
        try:
            graph = nir.read(path)
        except Exception as exc:  # h5py, KeyError, type-check ValueError
            raise NetworkError(f"NIR file {path}: cannot read it ({type(exc).__name__}: {exc})") from None
    elif isinstance(source, nir.NIRGraph):
        graph = source
    else:
        raise NetworkError(f"expected a NIR file path or a nir.NIRGraph, got {type(source).__name__}")
    if dt is None:
        dt = _scalar(graph.metadata.get("dt")) if "dt" in graph.metadata else None
        if dt is None:
            raise NetworkError(
                "the NIR graph carries no dt: give dt (in the graph's time unit; snnTorch exports assume 1e-4 s)"
            )
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not math.isfinite(dt) or dt <= 0:
        raise NetworkError(f"dt must be a number > 0 (graph time unit), got {dt!r}")
    return _Importer(graph, float(dt), duration_steps, seed).run()


def load(source, dt: float | None = None, **kwargs) -> Network:
    """Import a NIR graph as a :class:`snn.Network` (see :func:`read`)."""
    return read(source, dt, **kwargs).network


def _scalar(value) -> float:
    return float(np.asarray(value).ravel()[0])


def _flatten(graph, prefix: str = ""):
    """Nodes and edges of a graph with nested graphs inlined (names ``sub.node``)."""
    import nir

    nodes, edges = {}, []
    entries, exits = {}, {}  # subgraph name -> its Input / Output nodes
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = _flatten(node, full + ".")
            nodes.update(sub_nodes)
            edges.extend(sub_edges)
            entries[name] = [full + "." + k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            exits[name] = [full + "." + k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            for inner in entries[name] + exits[name]:
                nodes[inner] = ("identity", nodes[inner])
        else:
            nodes[full] = node
    for src, dst in graph.edges:
        srcs = exits.get(src, [prefix + src])
        dsts = entries.get(dst, [prefix + dst])
        edges.extend((s, d) for s in srcs for d in dsts)
    return nodes, edges


class _Importer:
    def __init__(self, graph, dt: float, duration_steps: int, seed: int) -> None:
        self.graph, self.dt, self.seed = graph, dt, seed
        self.dt_ms = dt * 1000.0
        self.duration_steps = duration_steps
        self.nodes, self.edges = _flatten(graph)
        self.biased: set[str] = set()
        for src, dst in self.edges:
            for end in (src, dst):
                if end not in self.nodes:
                    raise NetworkError(f"NIR edge ({src!r}, {dst!r}) names no node {end!r}")

    def kind(self, name: str) -> str:
        node = self.nodes[name]
        if isinstance(node, tuple):
            return "identity"
        return type(node).__name__

    def run(self) -> Imported:
        top_inputs = [n for n in self.nodes if self.kind(n) == "Input"]
        if not top_inputs:
            raise NetworkError("the NIR graph has no Input node")
        for name in self.nodes:
            k = self.kind(name)
            if k not in (*NEURON_TYPES, *LINEAR_TYPES, "Input", "Output", "identity"):
                hint = {
                    "LI": "a non-spiking leaky integrator (its output is v, not spikes)",
                    "CubaLI": "a non-spiking leaky integrator (its output is v, not spikes)",
                    "I": "a non-spiking integrator",
                    "Threshold": "a stateless threshold",
                }.get(k, "not supported")
                raise NetworkError(f"NIR node {name!r}: type {k} ({hint}) has no counterpart in snn networks")
        self.succ = {n: [] for n in self.nodes}
        for src, dst in self.edges:
            self.succ[src].append(dst)
        self.back = self._back_edges(top_inputs)
        self.sizes = {}
        for name in self.nodes:
            if self.kind(name) in NEURON_TYPES:
                self.sizes[name] = self._neuron_params(name)["n"]
            elif self.kind(name) == "Input":
                self.sizes[name] = int(math.prod(np.asarray(self.nodes[name].input_type["input"]).ravel()))
        self.records: dict[tuple[str, str, int], np.ndarray] = {}
        for src in list(self.sizes):
            shape = self._out_shape(src)
            self._walk(src, src, np.eye(self.sizes[src]), shape, 0, 0, 0)
        return self._build()

    # -- graph structure -------------------------------------------------------------------
    def _back_edges(self, roots: list[str]) -> set[tuple[str, str]]:
        """Edges that close a cycle in a depth-first walk from the inputs (then any node)."""
        back, state = set(), {}
        for root in [*roots, *self.nodes]:
            if root in state:
                continue
            stack = [(root, iter(self.succ[root]))]
            state[root] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(self.succ[nxt])))
        return back

    def _out_shape(self, name: str) -> tuple[int, ...]:
        node = self.nodes[name]
        if self.kind(name) == "Input":
            return tuple(int(s) for s in np.asarray(node.input_type["input"]).ravel())
        return tuple(np.shape(self._neuron_params(name)["thr_raw"])) or (1,)

    def _walk(self, source, at, m, shape, delay, n_back, depth) -> None:
        """Follow ``source``'s signal (matrix ``m``: source elements x signal) from node ``at``."""
        if depth > len(self.nodes) + 1:
            raise NetworkError(f"NIR graph: a cycle through stateless nodes only, reached at {at!r}")
        for nxt in self.succ[at]:
            back = n_back + ((at, nxt) in self.back)
            k = self.kind(nxt)
            if k in NEURON_TYPES or k == "Output":
                n_dst = self.sizes.get(nxt, m.shape[1])
                if k != "Output" and m.shape[1] != n_dst:
                    raise NetworkError(
                        f"NIR edge into {nxt!r}: {m.shape[1]} values for a node of {n_dst} neurons"
                    )
                extra = delay if delay > 0 else back
                key = (source, nxt, extra)
                self.records[key] = self.records.get(key, 0) + m
                continue
            if k == "Input":
                raise NetworkError(f"NIR edge into Input node {nxt!r}")
            if k in ("identity",):
                self._walk(source, nxt, m, shape, delay, back, depth + 1)
                continue
            t, bias, out_shape, delays = transfer(nxt, self.nodes[nxt], shape, self.dt)
            m2 = m @ t
            if bias is not None and np.any(bias) and source != BIAS and nxt not in self.biased:
                # a bias enters once per node, whatever path reaches it first
                self.biased.add(nxt)
                self._walk(BIAS, nxt, bias[None, :], out_shape, delay, back, depth + 1)
            if delays is None:
                self._walk(source, nxt, m2, out_shape, delay, back, depth + 1)
            else:
                for d in np.unique(delays):
                    self._walk(source, nxt, m2 * (delays == d), out_shape, delay + int(d), back, depth + 1)

    # -- neurons ---------------------------------------------------------------------------
    def _neuron_params(self, name: str) -> dict:
        """Our LIF parameters and the input gain of a NIR neuron node (forward Euler at dt)."""
        cache = self.__dict__.setdefault("_params", {})
        if name in cache:
            return cache[name]
        node, kind, dt, dt_ms = self.nodes[name], self.kind(name), self.dt, self.dt_ms

        def arr(field_name):
            return np.asarray(getattr(node, field_name), np.float64)

        thr_raw = arr("v_threshold")
        shape = thr_raw.shape

        def flat(a, what):
            a = np.asarray(a, np.float64)
            if a.shape not in ((), shape) and a.size != 1:
                raise NetworkError(f"NIR node {name!r}: {what} has shape {a.shape}, v_threshold {shape}")
            return np.broadcast_to(a, shape).ravel().astype(np.float64)

        n = int(math.prod(shape)) if shape else 1
        thr = flat(thr_raw, "v_threshold")
        v_reset = flat(arr("v_reset") if getattr(node, "v_reset", None) is not None else 0.0, "v_reset")
        r = flat(arr("r"), "r")
        if kind == "IF":
            tau_m = np.full(n, IF_TAU_M)
            tau_s = np.zeros(n)
            gain = dt * r  # dv/dt = R I, Euler: v += dt R I
            v_leak = np.zeros(n)
        else:
            tau_mem = flat(arr("tau" if kind == "LIF" else "tau_mem"), "tau")
            v_leak = flat(arr("v_leak"), "v_leak")
            beta = 1.0 - dt / tau_mem
            tau_m = self._tau(name, "tau" if kind == "LIF" else "tau_mem", beta)
            gain = r * dt / tau_mem
            if kind == "LIF":
                tau_s = np.zeros(n)
            else:
                w_in = flat(arr("w_in") if getattr(node, "w_in", None) is not None else 1.0, "w_in")
                tau_syn = flat(arr("tau_syn"), "tau_syn")
                alpha = 1.0 - dt / tau_syn
                tau_s = self._tau(name, "tau_syn", alpha, allow_zero=True)
                # our current i is NIR's I times gain / P (P: propagator from i to v)
                p = propagators(dt_ms, tau_m, tau_s, tau_s)["p_e"]
                gain = (dt / tau_syn) * w_in * gain / p
        # v > thr (NIR, strict) is v >= the next float above thr
        out = dict(
            n=n, thr_raw=thr_raw, tau_m=tau_m, tau_syn=tau_s, gain=gain, v_rest=v_leak,
            v_thresh=np.nextafter(thr, np.inf), v_reset=v_reset, v_init=v_leak.copy(),
            t_ref=np.zeros(n),
        )  # fmt: skip
        exact = node.metadata.get("snn") if isinstance(getattr(node, "metadata", None), dict) else None
        if exact is not None:
            self._use_exact(name, out, exact)
        cache[name] = out
        return out

    def _use_exact(self, name: str, out: dict, meta: dict) -> None:
        """Our own exports carry the exact parameters: use them where they agree with the NIR numbers."""
        for key in (
            "tau_m",
            "tau_syn_e",
            "tau_syn_i",
            "v_rest",
            "v_thresh",
            "v_reset",
            "v_init",
            "t_ref",
            "i_bias",
        ):
            if key not in meta:
                raise NetworkError(f"NIR node {name!r}: metadata 'snn' lacks {key!r}")
        tau_e = np.asarray(meta["tau_syn_e"], np.float64)
        if not np.allclose(np.asarray(meta["tau_m"], np.float64), out["tau_m"], rtol=1e-6) or not np.allclose(
            tau_e, out["tau_syn"], rtol=1e-6, atol=1e-12
        ):
            raise NetworkError(
                f"NIR node {name!r}: its 'snn' metadata disagrees with its time constants; drop the metadata"
            )
        for key in ("tau_m", "v_thresh", "v_reset", "v_init", "t_ref"):
            out[key] = np.broadcast_to(np.asarray(meta[key], np.float64), (out["n"],)).copy()
        out["tau_syn"] = tau_e
        out["tau_syn_i"] = np.asarray(meta["tau_syn_i"], np.float64)
        out["v_rest"] = np.asarray(meta["v_rest"], np.float64)
        out["i_bias"] = np.asarray(meta["i_bias"], np.float64)
        out["gain"] = np.ones(out["n"])

    def _tau(self, name, what, factor, allow_zero=False) -> np.ndarray:
        """Our time constant (ms) whose exact decay exp(-dt/tau) is the Euler factor ``1 - dt/tau``."""
        if np.any(factor < 0) or np.any(factor >= 1):
            bad = float(np.asarray(factor)[(factor < 0) | (factor >= 1)][0])
            raise NetworkError(
                f"NIR node {name!r}: {what} gives the Euler factor 1 - dt/{what} = {bad:g} at dt = {self.dt:g}; "
                f"it must be in [0, 1) (a {what} of at least dt): check dt"
            )
        with np.errstate(divide="ignore"):
            tau = -self.dt_ms / np.log(factor)
        if allow_zero:
            return np.where(factor == 0, 0.0, tau)
        return np.where(factor == 0, self.dt_ms / 1000.0, tau)  # exp(-1000) is 0.0 in float64

    # -- network ---------------------------------------------------------------------------
    def _build(self) -> Imported:
        dst_of_output = {}
        for (src, dst, _), _m in self.records.items():
            if self.kind(dst) == "Output":
                if src == BIAS or self.kind(src) == "Input":
                    raise NetworkError(
                        f"NIR Output node {dst!r} is fed by {src!r}, not by a spiking neuron node: "
                        "outputs here are spikes"
                    )
                dst_of_output.setdefault(src, dst)
        names = {}
        used = set()
        for node in self.sizes:
            want = dst_of_output.get(node, node)
            pop = _sanitize(want)
            while pop in used or pop == BIAS:
                pop += "_"
            used.add(pop)
            names[node] = pop
        lags = self._lags()
        net = Network(dt=self.dt_ms, duration=self.duration_steps * self.dt_ms, seed=self.seed)
        for node, pop in names.items():
            if self.kind(node) == "Input":
                meta = getattr(self.nodes[node], "metadata", {}) or {}
                self._source(net, pop, self.sizes[node], meta.get("snn"))
        for node, pop in names.items():
            if self.kind(node) in NEURON_TYPES:
                p = self._neuron_params(node)
                net.lif(
                    pop, p["n"], tau_m=p["tau_m"], tau_syn_e=p["tau_syn"], tau_syn_i=p.get("tau_syn_i", p["tau_syn"]),
                    v_rest=p["v_rest"], i_bias=p.get("i_bias", 0.0), v_thresh=p["v_thresh"], v_reset=p["v_reset"],
                    v_init=p["v_init"], t_ref=p["t_ref"],
                )  # fmt: skip
        if any(src == BIAS and self.kind(dst) != "Output" for src, dst, _ in self.records):
            net.poisson(BIAS, 1, rate=_every_step_rate(self.dt_ms), seed=0)
        pop_lag = {names[k]: v for k, v in lags.items() if k != BIAS}
        for (src, dst, extra), m in sorted(self.records.items(), key=lambda kv: kv[0]):
            if self.kind(dst) == "Output":
                continue
            pre = BIAS if src == BIAS else names[src]
            post = names[dst]
            delay = lags[dst] - lags[src] + extra
            self._project(net, pre, post, src, dst, m, delay)
        net.record_spikes(*[names[n] for n in names if self.kind(n) in NEURON_TYPES])
        return Imported(net, pop_lag, self.dt, {k: v for k, v in names.items()})

    def _source(self, net: Network, pop: str, n: int, meta) -> None:
        """An Input node: an empty spike list, or the source our own export described."""
        if isinstance(meta, dict) and str(meta.get("kind")) == "poisson":
            seed = meta.get("seed")
            net.poisson(
                pop, n, rate=np.asarray(meta["rate"], np.float64), seed=None if seed is None else int(seed)
            )
        elif isinstance(meta, dict) and str(meta.get("kind")) == "spikes":
            net.spikes(pop, n, np.asarray(meta["ids"], np.int64), steps=np.asarray(meta["steps"], np.int64))
        else:
            net.spikes(pop, n, np.zeros(0, np.int64), steps=np.zeros(0, np.int64))

    def _lags(self) -> dict[str, int]:
        """Smallest lags with every delay >= 1: lag[dst] >= lag[src] + 1 - extra (Bellman-Ford)."""
        lag = {n: 0 for n in self.sizes}
        lag[BIAS] = 0
        cons = [(s, d, e) for (s, d, e) in self.records if self.kind(d) != "Output"]
        for _ in range(len(lag) + 1):
            changed = False
            for s, d, e in cons:
                if lag[d] < lag[s] + 1 - e:
                    if self.kind(d) == "Input":
                        raise NetworkError(f"NIR Input node {d!r} has incoming edges")
                    lag[d] = lag[s] + 1 - e
                    changed = True
            if not changed:
                return lag
        loop = sorted({d for s, d, e in cons if lag[d] < lag[s] + 1 - e})
        raise NetworkError(
            f"NIR graph: a recurrent loop through {', '.join(map(repr, loop))} spans more layers than it has "
            "steps of delay; our synapses take one step each (add Delay nodes to the loop)"
        )

    def _project(self, net: Network, pre: str, post: str, src: str, dst: str, m, delay: int) -> None:
        gain = self._neuron_params(dst)["gain"]
        w = np.asarray(m, np.float64) * gain[None, :]
        for target, mask in (("exc", w > 0), ("inh", w < 0)):
            pre_i, post_i = np.nonzero(mask)
            if not pre_i.size:
                continue
            name = _sanitize(f"{pre}__{post}_d{delay}_{target[0]}")
            while name in net.projections:
                name += "_"
            net.connect(
                name, pre, post, Sparse(pre_i, post_i), weight=w[pre_i, post_i], delay=int(delay), target=target,
            )  # fmt: skip


def _every_step_rate(dt_ms: float) -> float:
    """A Poisson rate (Hz) whose probability per step, rate * dt / 1000, is exactly 1.0."""
    rate = 1000.0 / dt_ms
    for _ in range(8):
        p = rate * dt_ms / 1000.0
        if p == 1.0:
            return rate
        rate = np.nextafter(rate, -np.inf if p > 1.0 else np.inf)
    raise NetworkError(f"no Poisson rate fires every step at dt = {dt_ms:g} ms")  # pragma: no cover


def _sanitize(name: str) -> str:
    out = "".join(c if c.isalnum() or c in "_-" else "_" for c in str(name))
    return out or "node"


__all__ = ["Imported", "load", "read"]
