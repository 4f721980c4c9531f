"""snn.Network -> NIR graph (docs/nir.md): the exact inverse of :mod:`snn.nir.importer`.

* a spike source -> ``Input`` (its Poisson rate or spike list in ``metadata["snn"]``),
* a LIF group -> ``LIF`` with ``r = tau/dt`` (so ``r dt/tau = 1``), fed by one ``LI``
  current node per synapse type (``<pop>.i_e``, ``<pop>.i_i``: ``tau = tau_syn``, ``v_leak
  = 0``, ``r = P/(1 - exp(-dt/tau_syn))`` so that a weight ``w`` adds ``w`` to our
  current); a group whose two time constants are 0 (delta synapses) takes its inputs
  directly,
* a projection -> ``Linear`` (``weight`` (n_post, n_pre), mV) and a ``Delay`` of its
  delay in steps times dt, per distinct delay; its synapse list, target and STDP rule in
  ``metadata["snn"]`` (NIR has no sparse or plastic weights),
* ``dt`` (seconds) in the graph's metadata; refractoriness, ``v_init`` and the exact
  parameters, which NIR's ODEs cannot hold, in each LIF node's ``metadata["snn"]``.

The time constants are those whose forward-Euler factors equal our exact decays:
``tau_nir = dt / (1 - exp(-dt/tau))``. NIR's threshold is strict: ``v_threshold`` is the
float just below ours.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..errors import NetworkError
from ..network import Network
from ..populations import LIFGroup, PoissonSource, SpikeSource
from ..quantize import propagators


def to_graph(network: Network):
    """The :class:`nir.NIRGraph` of ``network`` (see the module docstring)."""
    import nir

    built = network.build()
    dt_s = network.dt / 1000.0
    nodes, edges = {}, []
    order = []
    for index, pop in enumerate(network.populations.values()):
        order.append(pop.name)
        if isinstance(pop, LIFGroup):
            _lif(nodes, edges, pop, built, dt_s)
        else:
            meta = _source_meta(pop, network, index)
            nodes[pop.name] = nir.Input(np.array([pop.n]), metadata={"snn": meta})
    for proj in network.projections.values():
        pre_idx, post_idx = built.projection_pairs(proj.name)
        weight = built.projection_weights(proj.name)
        delays = np.broadcast_to(np.asarray(proj.delay, np.int64), weight.shape)
        post_pop = network.populations[proj.post]
        target = _channel(post_pop, proj.target)
        for d in np.unique(delays):
            sel = delays == d
            name = proj.name if np.unique(delays).size == 1 else f"{proj.name}.d{int(d)}"
            w = np.zeros((post_pop.n, network.populations[proj.pre].n))
            w[post_idx[sel], pre_idx[sel]] = weight[sel]
            meta = {
                "name": proj.name,
                "target": proj.target,
                "pre": pre_idx[sel],
                "post": post_idx[sel],
                "weight": weight[sel],
            }
            if proj.stdp is not None:
                rule = {f.name: getattr(proj.stdp, f.name) for f in dataclasses.fields(proj.stdp)}
                meta["stdp"] = {"kind": proj.stdp.kind, **rule}
            nodes[name] = nir.Linear(w, metadata={"snn": meta})
            nodes[name + ".delay"] = nir.Delay(np.full(post_pop.n, float(d) * dt_s))
            edges += [(proj.pre, name), (name, name + ".delay"), (name + ".delay", target)]
    if not network.sources and network.lif_groups:
        # NIR's type check starts from an Input that feeds something: a zero weight into the
        # first group, which snn.nir.load drops again
        first = network.lif_groups[0]
        nodes["no_input"] = nir.Input(np.array([1]), metadata={"snn": {"kind": "none"}})
        nodes["no_input.w"] = nir.Linear(np.zeros((first.n, 1)))
        edges += [("no_input", "no_input.w"), ("no_input.w", _channel(first, "exc"))]
    for pop in network.lif_groups:
        nodes[pop.name + ".out"] = nir.Output(np.array([pop.n]))
        edges.append((pop.name, pop.name + ".out"))
    meta = {
        "dt": dt_s,
        "snn": {
            "order": ",".join(order),
            "projections": ",".join(network.projections),
            "seed": network.seed,
            "duration_ms": network.duration,
            "record_spikes": ",".join(network.recordings.spikes),
            "record_rates": ",".join(network.recordings.rates),
            "record_weights": ",".join(f"{w.projection}:{w.every}" for w in network.recordings.weights),
            "record_state": {
                str(i): {
                    "population": sp.population,
                    "variables": ",".join(sp.variables),
                    "neurons": np.asarray(sp.neurons, np.int64),
                    "every": int(sp.every),
                }
                for i, sp in enumerate(network.recordings.state)
            },  # fmt: skip
        },
    }
    if not meta["snn"]["record_state"]:
        del meta["snn"]["record_state"]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=False)


def save(network: Network, path: str | Path) -> Path:
    """Write ``network`` as a NIR file (HDF5) that ``nir.read`` and :func:`snn.nir.load` read."""
    import nir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nir.write(path, to_graph(network))
    return path


def _channel(pop: LIFGroup, target: str) -> str:
    return pop.name if _delta(pop) else f"{pop.name}.i_{target[0]}"


def _delta(pop: LIFGroup) -> bool:
    return bool(np.all(np.asarray(pop.tau_syn_e) == 0) and np.all(np.asarray(pop.tau_syn_i) == 0))


def _lif(nodes, edges, pop: LIFGroup, built, dt_s: float) -> None:
    import nir

    sl = built.lif_slices[pop.name]
    p = {k: v[sl] for k, v in built.params.items()}
    dt_ms = built.dt
    tau_nir = dt_s / -np.expm1(-dt_ms / p["tau_m"])
    exact = {k: p[k] for k in ("tau_m", "tau_syn_e", "tau_syn_i", "v_rest", "i_bias", "v_thresh", "v_reset",
                               "t_ref", "v_init")}  # fmt: skip
    if np.any(p["tau_syn_e"] == 0) != np.any(p["tau_syn_i"] == 0) or (
        np.any(p["tau_syn_e"] == 0) and not _delta(pop)
    ):
        raise NetworkError(
            f"population {pop.name!r}: NIR export needs tau_syn_e and tau_syn_i both 0 (delta) or both > 0"
        )
    nodes[pop.name] = nir.LIF(
        tau=tau_nir,
        r=tau_nir / dt_s,
        v_leak=p["v_rest"] + p["i_bias"],
        v_threshold=np.nextafter(p["v_thresh"], -np.inf),
        v_reset=p["v_reset"],
        metadata={"snn": exact},
    )
    if _delta(pop):
        return
    for key in ("e", "i"):
        tau_s = p[f"tau_syn_{key}"]
        factor = -np.expm1(-dt_ms / tau_s)  # 1 - exp(-dt/tau_syn)
        pp = propagators(dt_ms, p["tau_m"], tau_s, tau_s)["p_e"]
        nodes[f"{pop.name}.i_{key}"] = nir.LI(tau=dt_s / factor, r=pp / factor, v_leak=np.zeros(pop.n))
        edges.append((f"{pop.name}.i_{key}", pop.name))


def _source_meta(pop, network: Network, index: int) -> dict:
    if isinstance(pop, PoissonSource):
        meta = {"kind": "poisson", "rate": np.broadcast_to(np.asarray(pop.rate, np.float64), (pop.n,)).copy()}
        if pop.seed is not None:
            meta["seed"] = int(pop.seed)
        return meta
    if isinstance(pop, SpikeSource):
        steps = pop.steps if pop.steps is not None else np.rint(pop.times / network.dt).astype(np.int64)
        return {"kind": "spikes", "ids": np.asarray(pop.ids, np.int64), "steps": np.asarray(steps, np.int64)}
    raise NetworkError(f"population {pop.name!r}: no NIR form for a {type(pop).__name__}")  # pragma: no cover
