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
from ..plasticity import RULES
from ..quantize import propagators
from .linear import LINEAR_TYPES, transfer

NEURON_TYPES = ("LIF", "CubaLIF", "IF")
BIAS = "\0bias"  # key of the source that spikes every step and carries Affine/Conv biases
BIAS_NAME = "bias"  # its population
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
            try:
                graph = nir.read(path)
            except ValueError:  # nir's type check (e.g. an Input with a batch dim, Norse's exports):
                graph = nir.read(path, type_check=False)  # our own shape checks name the node
        except Exception as exc:  # h5py, KeyError, ...
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
        meta = graph.metadata.get("snn") if isinstance(graph.metadata, dict) else None
        self.ours = meta if isinstance(meta, dict) and "order" in meta else None  # written by snn.nir.save
        for src, dst in self.edges:
            for end in (src, dst):
                if end not in self.nodes:
                    raise NetworkError(f"NIR edge ({src!r}, {dst!r}) names no node {end!r}")

    def _meta(self, name: str) -> dict:
        meta = getattr(self.nodes[name], "metadata", None)
        snn_meta = meta.get("snn") if isinstance(meta, dict) else None
        return snn_meta if isinstance(snn_meta, dict) else {}

    def kind(self, name: str) -> str:
        node = self.nodes[name]
        if isinstance(node, tuple):
            return "identity"
        return type(node).__name__

    def run(self) -> Imported:
        top_inputs = [n for n in self.nodes if self.kind(n) == "Input"]
        if not top_inputs:
            raise NetworkError("the NIR graph has no Input node")
        self.succ = {n: [] for n in self.nodes}
        for src, dst in self.edges:
            self.succ[src].append(dst)
        for name in self.nodes:
            k = self.kind(name)
            if k == "LI":
                nxt = self.succ[name]
                if len(nxt) != 1 or self.kind(nxt[0]) not in ("LIF", "IF"):
                    raise NetworkError(
                        f"NIR node {name!r}: an LI node is expressible only as the synaptic current of one "
                        "LIF/IF node it feeds directly (its output is v, not spikes)"
                    )
            elif k not in (*NEURON_TYPES, *LINEAR_TYPES, "Input", "Output", "identity"):
                hint = {
                    "CubaLI": "a non-spiking leaky integrator (its output is v, not spikes)",
                    "I": "a non-spiking integrator",
                    "Threshold": "a stateless threshold",
                }.get(k, "not supported")
                raise NetworkError(f"NIR node {name!r}: type {k} ({hint}) has no counterpart in snn networks")
        self.back = self._back_edges(top_inputs)
        self.base = {n: self._neuron_base(n) for n in self.nodes if self.kind(n) in NEURON_TYPES}
        self.sizes = {n: self.base[n]["n"] for n in self.base}
        if self.ours is not None:  # our export's placeholder entry of a network without sources
            top_inputs = [n for n in top_inputs if str(self._meta(n).get("kind")) != "none"]
        for name in top_inputs:
            self.sizes[name] = int(math.prod(np.asarray(self.nodes[name].input_type["input"]).ravel()))
        self.records: dict[tuple, np.ndarray | None] = {}
        for src in list(self.sizes):
            self._walk(src, src, None, self._out_shape(src), 0, 0, 0, None, None)
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
        if self.kind(name) == "Input":
            return tuple(int(s) for s in np.asarray(self.nodes[name].input_type["input"]).ravel())
        return self.base[name]["shape"] or (1,)

    def _walk(self, source, at, m, shape, delay, n_back, depth, channel, tag) -> None:
        """Follow ``source``'s signal from node ``at``: ``m`` (source elements x signal), None = identity."""
        if depth > len(self.nodes) + 1:
            raise NetworkError(f"NIR graph: a cycle through stateless nodes only, reached at {at!r}")
        width = self.sizes[source] if m is None else m.shape[1]
        for nxt in self.succ[at]:
            back = n_back + ((at, nxt) in self.back)
            k = self.kind(nxt)
            if k in NEURON_TYPES or k == "Output":
                if k != "Output" and width != self.sizes[nxt]:
                    raise NetworkError(
                        f"NIR edge into {nxt!r}: {width} values for a node of {self.sizes[nxt]} neurons"
                    )
                extra = delay if delay > 0 else back
                key = (source, nxt, extra, channel, tag)
                if key in self.records:  # several paths between the same nodes add up
                    self.records[key] = _as_dense(self.records[key], width) + _as_dense(m, width)
                else:
                    self.records[key] = m
            elif k == "Input":
                raise NetworkError(f"NIR edge into Input node {nxt!r}")
            elif k == "identity":
                self._walk(source, nxt, m, shape, delay, back, depth + 1, channel, tag)
            elif k == "LI":
                if channel is not None:
                    raise NetworkError(f"NIR node {nxt!r}: an LI node fed by another LI node ({channel!r})")
                self._walk(source, nxt, m, shape, delay, back, depth + 1, nxt, tag)
            else:
                t, bias, out_shape, delays = transfer(nxt, self.nodes[nxt], shape, self.dt)
                if t is None:  # identity
                    m2 = m
                elif t.ndim == 1:  # diagonal
                    m2 = np.diag(t) if m is None else m * t[None, :]
                else:
                    m2 = t if m is None else m @ t
                meta = getattr(self.nodes[nxt], "metadata", None)
                tag2 = nxt if self.ours is not None and isinstance(meta, dict) and "snn" in meta else tag
                if bias is not None and np.any(bias) and source != BIAS and nxt not in self.biased:
                    # a bias enters once per node, whatever path reaches it first
                    self.biased.add(nxt)
                    self._walk(BIAS, nxt, bias[None, :], out_shape, delay, back, depth + 1, channel, tag2)
                if delays is None:
                    self._walk(source, nxt, m2, out_shape, delay, back, depth + 1, channel, tag2)
                else:
                    for d in np.unique(delays):
                        sel = delays == d
                        m3 = m2 if np.all(sel) else _as_dense(m2, width) * sel[None, :]
                        self._walk(source, nxt, m3, out_shape, delay + int(d), back, depth + 1, channel, tag2)

    # -- neurons ---------------------------------------------------------------------------
    def _arrays(self, name: str, node, shape):
        def flat(field_name, default=None):
            value = getattr(node, field_name, None)
            a = np.asarray(default if value is None else value, np.float64)
            if a.shape not in ((), shape) and a.size != 1:
                raise NetworkError(f"NIR node {name!r}: {field_name} has shape {a.shape}, expected {shape}")
            return np.broadcast_to(a, shape).ravel().astype(np.float64)

        return flat

    def _neuron_base(self, name: str) -> dict:
        """Parameters of a neuron node that do not depend on its synapses (forward Euler at dt)."""
        node, kind, dt = self.nodes[name], self.kind(name), self.dt
        shape = np.shape(node.v_threshold)
        flat = self._arrays(name, node, shape)
        n = int(math.prod(shape)) if shape else 1
        out = dict(n=n, shape=tuple(shape), kind=kind, v_thresh=np.nextafter(flat("v_threshold"), np.inf),
                   v_reset=flat("v_reset", 0.0), t_ref=np.zeros(n), i_bias=np.zeros(n))  # fmt: skip
        r = flat("r")
        if kind == "IF":
            out.update(tau_m=np.full(n, IF_TAU_M), g=dt * r, v_rest=np.zeros(n))  # dv/dt = R I
        else:
            what = "tau" if kind == "LIF" else "tau_mem"
            tau_mem = flat(what)
            out.update(
                tau_m=self._tau(name, what, 1.0 - dt / tau_mem), g=r * dt / tau_mem, v_rest=flat("v_leak")
            )
        if kind == "CubaLIF":
            tau_syn = flat("tau_syn")
            out["tau_syn"] = self._tau(name, "tau_syn", 1.0 - dt / tau_syn, allow_zero=True)
            out["syn_in"] = dt / tau_syn * flat("w_in", 1.0)  # NIR's I jumps by dt/tau_syn w_in S
        out["v_init"] = out["v_rest"].copy()
        return out

    def _channel(self, li: str) -> tuple[np.ndarray, np.ndarray]:
        """An LI current node: (our tau_syn in ms, the jump of NIR's I per unit input)."""
        node = self.nodes[li]
        flat = self._arrays(li, node, np.shape(node.tau))
        if np.any(flat("v_leak") != 0):
            raise NetworkError(f"NIR node {li!r}: an LI synaptic current needs v_leak = 0")
        tau = flat("tau")
        return self._tau(li, "tau", 1.0 - self.dt / tau, allow_zero=True), self.dt / tau * flat("r")

    def _neurons(self) -> dict[str, dict]:
        """Each neuron node's LIF parameters and the gain of each of its inputs (channel -> gain)."""
        out = {}
        for name, base in self.base.items():
            p = dict(base)
            recs = [k for k in self.records if k[1] == name]
            channels = sorted({k[3] for k in recs if k[3] is not None})
            direct = any(k[3] is None for k in recs)
            gains = {}
            if base["kind"] == "CubaLIF":
                p["tau_syn_e"] = p["tau_syn_i"] = base["tau_syn"]
                pe = propagators(self.dt_ms, p["tau_m"], base["tau_syn"], base["tau_syn"])["p_e"]
                gains[None] = base["syn_in"] * base["g"] / pe  # our i is NIR's I * g / P
            elif channels:
                if direct or len(channels) > 2:
                    raise NetworkError(
                        f"NIR node {name!r}: inputs both directly and through LI current nodes, or more than "
                        "two LI nodes: the model has two synaptic currents"
                    )
                taus = {}
                for c in channels:
                    tau_c, jump = self._channel(c)
                    taus[c] = tau_c
                    pc = propagators(self.dt_ms, p["tau_m"], tau_c, tau_c)["p_e"]
                    gains[c] = jump * base["g"] / pc
                exc, inh = self._assign(name, channels, recs, gains)
                p["tau_syn_e"], p["tau_syn_i"] = taus[exc], taus[inh]
                p["channel_target"] = {exc: "exc", inh: "inh"} if exc != inh else {exc: None}
            else:
                p["tau_syn_e"] = p["tau_syn_i"] = np.zeros(p["n"])  # delta synapses: input jumps v
                gains[None] = base["g"]
            meta = getattr(self.nodes[name], "metadata", None)
            if self.ours is not None and isinstance(meta, dict) and isinstance(meta.get("snn"), dict):
                self._use_exact(name, p, meta["snn"], gains)
            p["gains"] = gains
            out[name] = p
        return out

    def _assign(self, name, channels, recs, gains) -> tuple[str, str]:
        """Which LI channel is the excitatory current and which the inhibitory (by weight sign)."""
        if len(channels) == 1:
            return channels[0], channels[0]
        signs = {}
        for c in channels:
            vals = []
            for k in recs:
                if k[3] == c:
                    m = self.records[k]
                    vals.append(np.ones(1) if m is None else np.asarray(m).ravel())
                    if k[4] is not None:  # our export: the projection says
                        target = str(self.nodes[k[4]].metadata["snn"]["target"])
                        vals.append(np.ones(1) if target == "exc" else -np.ones(1))
            v = np.concatenate(vals) if vals else np.zeros(1)
            signs[c] = (bool(np.any(v > 0)), bool(np.any(v < 0)))
        a, b = channels
        if not signs[a][1] and not signs[b][0]:
            return a, b
        if not signs[b][1] and not signs[a][0]:
            return b, a
        raise NetworkError(
            f"NIR node {name!r}: its two LI current nodes {a!r}, {b!r} need one with weights >= 0 and one <= 0"
        )

    def _use_exact(self, name: str, p: dict, meta: dict, gains: dict) -> None:
        """Our own exports carry the exact parameters: use them where they agree with the NIR numbers."""
        keys = (
            "tau_m",
            "tau_syn_e",
            "tau_syn_i",
            "v_rest",
            "v_thresh",
            "v_reset",
            "v_init",
            "t_ref",
            "i_bias",
        )
        for key in keys:
            if key not in meta:
                raise NetworkError(f"NIR node {name!r}: metadata 'snn' lacks {key!r}")
        for key in ("tau_m", "tau_syn_e", "tau_syn_i"):
            if not np.allclose(np.asarray(meta[key], np.float64), p[key], rtol=1e-6, atol=1e-12):
                raise NetworkError(
                    f"NIR node {name!r}: its 'snn' metadata disagrees with its time constants ({key}); "
                    "drop the metadata"
                )
        for key in keys:
            p[key] = np.broadcast_to(np.asarray(meta[key], np.float64), (p["n"],)).copy()
        for c in gains:
            gains[c] = np.ones(p["n"])

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
    def _names(self) -> dict[str, str]:
        if self.ours is not None:
            return {n: n for n in self.sizes}
        dst_of_output = {}
        for (src, dst, *_), m in self.records.items():
            if self.kind(dst) == "Output":
                if src == BIAS or self.kind(src) == "Input":
                    raise NetworkError(
                        f"NIR Output node {dst!r} is fed by {src!r}, not by a spiking neuron node: "
                        "outputs here are spikes"
                    )
                if m is not None and not (m.shape[0] == m.shape[1] and np.array_equal(m, np.eye(len(m)))):
                    raise NetworkError(
                        f"NIR Output node {dst!r} is fed by {src!r} through weights, so its values are not "
                        "spikes; end the graph with a neuron node"
                    )
                dst_of_output.setdefault(src, dst)
        names, used = {}, set()
        for node in self.sizes:
            pop = _sanitize(dst_of_output.get(node, node))
            while pop in used or pop == BIAS_NAME:
                pop += "_"
            used.add(pop)
            names[node] = pop
        return names

    def _build(self) -> Imported:
        names = self._names()
        params = self._neurons()
        lags = self._lags()
        ours = self.ours or {}
        seed = int(ours.get("seed", self.seed))
        duration = float(ours.get("duration_ms", self.duration_steps * self.dt_ms))
        net = Network(dt=self.dt_ms, duration=duration, seed=seed)
        order = _split(ours["order"]) if "order" in ours else [*names]
        if sorted(order) != sorted(names):
            raise NetworkError("NIR graph: its metadata 'snn.order' does not list its populations")
        for node in order:
            pop = names[node]
            if self.kind(node) == "Input":
                meta = getattr(self.nodes[node], "metadata", {}) or {}
                self._source(net, pop, self.sizes[node], meta.get("snn") if self.ours is not None else None)
            else:
                p = params[node]
                net.lif(pop, p["n"], **{k: p[k] for k in ("tau_m", "tau_syn_e", "tau_syn_i", "v_rest", "i_bias",
                        "v_thresh", "v_reset", "v_init", "t_ref")})  # fmt: skip
        bias_name = BIAS_NAME
        while bias_name in net.populations:
            bias_name += "_"
        if any(src == BIAS and self.kind(dst) != "Output" for src, dst, *_ in self.records):
            net.poisson(bias_name, 1, rate=_every_step_rate(self.dt_ms), seed=0)
        specs = []
        for (src, dst, extra, channel, tag), m in self.records.items():
            if self.kind(dst) == "Output":
                continue
            pre = bias_name if src == BIAS else names[src]
            delay = lags[dst] - lags[src] + extra
            p = params[dst]
            if tag is not None:
                specs.append(self._tagged(tag, pre, names[dst], delay))
                continue
            w = _as_dense(m, self.sizes.get(src, 1)) * p["gains"][channel][None, :]
            fixed = p.get("channel_target", {}).get(channel)
            for target, mask in (("exc", w > 0), ("inh", w < 0)):
                if fixed is not None and target != fixed and np.any(mask):
                    raise NetworkError(f"NIR node {channel!r}: {target} weights into the {fixed} current")
                pre_i, post_i = np.nonzero(mask)
                if pre_i.size:
                    name = _sanitize(f"{pre}__{names[dst]}_d{delay}_{target[0]}")
                    specs.append(dict(name=name, pre=pre, post=names[dst], pre_i=pre_i, post_i=post_i,
                                      w=w[pre_i, post_i], delay=np.full(pre_i.size, delay), target=target, stdp=None))  # fmt: skip
        self._connect(net, specs, _split(ours["projections"]) if "projections" in ours else None)
        record = _split(ours["record_spikes"]) if "record_spikes" in ours else None
        net.record_spikes(*(record if record else [names[n] for n in names if self.kind(n) in NEURON_TYPES]))
        net.record_rate(*_split(ours.get("record_rates", "")))
        for item in _split(ours.get("record_weights", "")):
            proj, every = item.rsplit(":", 1)
            net.record_weights(proj, every=int(every))
        state = ours.get("record_state", {})
        for key in sorted(state, key=int):
            sp = state[key]
            net.record_state(str(sp["population"]), tuple(_split(sp["variables"])), np.asarray(sp["neurons"]),
                             int(sp["every"]))  # fmt: skip
        pop_lag = {names[k]: v for k, v in lags.items() if k != BIAS}
        return Imported(net, pop_lag, self.dt, dict(names))

    def _tagged(self, tag: str, pre: str, post: str, delay: int) -> dict:
        """A projection our export wrote: its exact synapse list, weights, target and rule."""
        meta = self.nodes[tag].metadata["snn"]
        stdp = None
        if isinstance(meta.get("stdp"), dict):
            rule = {k: (v.item() if hasattr(v, "item") else v) for k, v in meta["stdp"].items()}
            kind = str(rule.pop("kind"))
            if kind not in RULES:
                raise NetworkError(f"NIR node {tag!r}: unknown STDP rule {kind!r}")
            stdp = RULES[kind](**{k: (str(v) if isinstance(v, (str, bytes)) else v) for k, v in rule.items()})
        pre_i = np.asarray(meta["pre"], np.int64)
        return dict(name=str(meta.get("name", tag)), pre=pre, post=post, pre_i=pre_i,
                    post_i=np.asarray(meta["post"], np.int64), w=np.asarray(meta["weight"], np.float64),
                    delay=np.full(pre_i.size, delay), target=str(meta["target"]), stdp=stdp)  # fmt: skip

    def _connect(self, net: Network, specs: list[dict], order: list[str] | None) -> None:
        merged: dict[str, dict] = {}
        for spec in specs:  # a projection split by delay comes back as one
            name = spec["name"]
            while name in merged and (self.ours is None or merged[name]["post"] != spec["post"]):
                name += "_"
            if name in merged:
                old = merged[name]
                for key in ("pre_i", "post_i", "w", "delay"):
                    old[key] = np.concatenate([old[key], spec[key]])
            else:
                merged[name] = dict(spec)
        names = [n for n in (order or []) if n in merged] + [n for n in merged if n not in (order or [])]
        for name in names:
            s = merged[name]
            delay = s["delay"]
            uniform = delay.size and np.all(delay == delay[0])
            if np.any(delay < 1):  # pragma: no cover - the lags make every delay >= 1
                raise NetworkError(f"projection {name!r}: delay {delay.min()} < 1")
            net.connect(name, s["pre"], s["post"], Sparse(s["pre_i"], s["post_i"]), weight=s["w"],
                        delay=int(delay[0]) if uniform else delay, target=s["target"], stdp=s["stdp"])  # fmt: skip

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
        cons = [(s, d, e) for (s, d, e, *_) in self.records if self.kind(d) != "Output"]
        for _ in range(len(lag) + 1):
            changed = False
            for s, d, e in cons:
                if lag[d] < lag[s] + 1 - e:
                    lag[d] = lag[s] + 1 - e
                    changed = True
            if not changed:
                return lag
        loop = sorted({d for s, d, e in cons if lag[d] < lag[s] + 1 - e})
        raise NetworkError(
            f"NIR graph: a recurrent loop through {', '.join(map(repr, loop))} spans more layers than it has "
            "steps of delay; our synapses take one step each (add Delay nodes to the loop)"
        )


def _as_dense(m, width: int) -> np.ndarray:
    return np.eye(width) if m is None else np.asarray(m, np.float64)


def _split(text) -> list[str]:
    text = text.decode() if isinstance(text, bytes) else str(text)
    return [t for t in text.split(",") if t]


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
