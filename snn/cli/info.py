"""``snn validate NETWORK`` and ``snn info NETWORK [--json]``: check and summarize a network file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from ..build import BuiltNetwork
from ..errors import NetworkError
from ..network import Network
from ..populations import LIF_PARAMETERS, LIFGroup, PoissonSource, SpikeSource
from ..values import Normal, Uniform

# Memory of the CPU simulator's data structures (the design target of the kernels), in bytes.
MEMORY_MODEL = {
    "synapses": "8 B per synapse: 4 B postsynaptic index + 4 B float32 weight",
    "delays": "2 B per synapse, only when the delays are not all equal",
    "row_pointers": "8 B per presynaptic neuron or source (CSR)",
    "neuron_state": "16 B per LIF neuron: v, i_e, i_i (float32) and the refractory counter",
    "delay_buffer": "8 B per LIF neuron and delay slot: pending i_e and i_i (float32)",
    "stdp_traces": "4 B per pre and post neuron of each plastic projection",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``validate`` and ``info``."""
    validate = subparsers.add_parser(
        "validate", help="load and build a network file; print ok or a one-line error"
    )
    validate.add_argument("network", metavar="NETWORK", type=Path, help="network file (.toml)")
    validate.set_defaults(func=run_validate)
    info = subparsers.add_parser(
        "info", help="summarize a network file: populations, projections, memory, fit to the core"
    )
    info.add_argument("network", metavar="NETWORK", type=Path, help="network file (.toml)")
    info.add_argument("--json", action="store_true", help="print the summary as JSON")
    info.add_argument(
        "--dt", type=float, metavar="DT", help="a NIR file's timestep in its time unit (when it has none)"
    )
    info.set_defaults(func=run_info)


def load_and_build(path: Path, dt: float | None = None) -> tuple[Network, BuiltNetwork]:
    """Load a file (a network file, or a NIR graph at ``dt``) and build it; errors name the file."""
    from ..nir import load_file

    network = load_file(path, dt)
    try:
        return network, network.build()
    except NetworkError as exc:
        raise NetworkError(f"{path}: {exc}") from None


def run_validate(args: argparse.Namespace) -> int:
    """``snn validate``: exit 0 and one ``ok:`` line, or raise the file's one-line error."""
    network, built = load_and_build(args.network)
    print(
        f"ok: {args.network}: {len(network.populations)} populations, "
        f"{built.n_neurons} neurons, {built.n_synapses} synapses"
    )
    return 0


def run_info(args: argparse.Namespace) -> int:
    """``snn info``: print the summary as tables, or as JSON with ``--json``."""
    network, built = load_and_build(args.network, args.dt)
    data = summary(network, built, str(args.network))
    if args.network.suffix.lower() == ".nir":
        from ..nir import node_counts

        data["nir_nodes"] = node_counts(args.network)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        # a pipe or a file gets wide, unwrapped tables
        print_summary(data, Console(highlight=False, width=None if sys.stdout.isatty() else 200))
    return 0


# -- the summary, as plain data ----------------------------------------------------------
def summary(network: Network, built: BuiltNetwork, name: str = "") -> dict:
    """Everything ``snn info`` reports, as JSON-ready data."""
    rec = network.recordings
    return {
        "file": name,
        "dt_ms": network.dt,
        "duration_ms": network.duration,
        "steps": network.n_steps,
        "seed": network.seed,
        "neurons": built.n_neurons,
        "sources": built.n_sources,
        "synapses": built.n_synapses,
        "populations": [_population(pop) for pop in network.populations.values()],
        "projections": [
            {
                "name": proj.name,
                "pre": proj.pre,
                "post": proj.post,
                "rule": proj.connectivity.rule,
                "synapses": int(built.proj_size[index]),
                "target": proj.target,
                "weight_mV": describe(proj.weight),
                "delay_steps": describe(proj.delay),
                "plasticity": _stdp(proj.stdp),
            }
            for index, proj in enumerate(network.projections.values())
        ],
        "recordings": {
            "spikes": list(rec.spikes),
            "rates": list(rec.rates),
            "state": [
                f"{p.population}: {', '.join(p.variables)} of {p.neurons.size} neurons every {p.every} steps"
                for p in rec.state
            ],
            "weights": [
                f"{p.projection}: " + (f"every {p.every} steps and at the end" if p.every else "at the end")
                for p in rec.weights
            ],
        },
        "memory_bytes": memory_estimate(built),
        "core": core_fit(built),
    }


def describe(value: object) -> str:
    """A parameter value in words: ``-49``, ``uniform [-60, -50]``, ``per element, 1..7``."""
    if isinstance(value, Uniform):
        return f"uniform [{value.low:g}, {value.high:g}]"
    if isinstance(value, Normal):
        return f"normal (mean {value.mean:g}, std {value.std:g})"
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return "per element (none)"
        return f"per element, {value.min():g}..{value.max():g}"
    return f"{value:g}"


def _population(pop) -> dict:
    if isinstance(pop, LIFGroup):
        params = {f"{p}_{unit}": describe(getattr(pop, p)) for p, (unit, _, _) in LIF_PARAMETERS.items()}
    elif isinstance(pop, PoissonSource):
        params = {"rate_hz": describe(pop.rate), "seed": "network" if pop.seed is None else str(pop.seed)}
    elif isinstance(pop, SpikeSource):
        params = {"spikes": str(pop.ids.size), "given_in": "ms" if pop.steps is None else "steps"}
    else:  # a population kind this command does not know yet
        params = {}
    return {"name": pop.name, "kind": pop.kind, "n": pop.n, "params": params}


def _stdp(rule) -> dict | None:
    return None if rule is None else {"kind": rule.kind, **rule.params()}


def _stdp_text(rule: dict | None) -> str:
    if rule is None:
        return "static"
    return f"{rule['kind']} STDP, w in [{rule['w_min_mV']:g}, {rule['w_max_mV']:g}] mV"


def memory_estimate(built: BuiltNetwork) -> dict[str, int]:
    """Bytes of the simulator's data, per item of :data:`MEMORY_MODEL`, and the total."""
    n_syn, n = built.n_synapses, built.n_neurons
    uniform_delays = built.uniform_delay != 0  # no per-synapse array is made
    plastic = [p for p in built.network.projections.values() if p.stdp is not None]
    pops = built.network.populations
    sizes = {
        "synapses": 8 * n_syn,
        "delays": 0 if uniform_delays else 2 * n_syn,
        "row_pointers": 8 * (n + built.n_sources + 1),
        "neuron_state": 16 * n,
        "delay_buffer": 8 * n * (built.max_delay + 1),
        "stdp_traces": 4 * sum(pops[p.pre].n + pops[p.post].n for p in plastic),
    }
    assert sizes.keys() == MEMORY_MODEL.keys()
    sizes["total"] = sum(sizes.values())
    return sizes


def core_fit(built: BuiltNetwork) -> dict:
    """Whether the network fits the default core: ``spec``, ``fits`` and ``problems``.

    The import is guarded so that ``snn info`` keeps working in a build without the
    quantizer; ``fits`` is then ``None`` ("fit check unavailable").
    """
    try:
        from ..core_spec import CoreSpec
        from ..quantize import fit_problems
    except ImportError:
        return {"spec": "default core", "fits": None, "problems": []}
    spec = CoreSpec()
    problems = fit_problems(built, spec)
    return {
        "spec": f"{spec.max_inputs} inputs x {spec.max_neurons} neurons",
        "fits": not problems,
        "problems": problems,
    }


# -- the summary, printed ----------------------------------------------------------------
def print_summary(data: dict, console: Console) -> None:
    """Print :func:`summary` data as tables."""
    console.print(
        f"[bold]{data['file']}[/]: dt {data['dt_ms']:g} ms, duration {data['duration_ms']:g} ms "
        f"({data['steps']} steps), seed {data['seed']}; {data['neurons']} neurons, "
        f"{data['sources']} sources, {data['synapses']} synapses"
    )
    if "nir_nodes" in data:
        console.print("NIR graph: " + ", ".join(f"{n} {kind}" for kind, n in data["nir_nodes"].items()))
    pops = _table("Populations", "name", "kind", "n", "parameters")
    for p in data["populations"]:
        params = ", ".join(f"{k}={v}" for k, v in p["params"].items())
        pops.add_row(p["name"], p["kind"], str(p["n"]), params)
    console.print(pops)
    projs = _table(
        "Projections",
        "name",
        "pre -> post",
        "rule",
        "synapses",
        "target",
        "weight (mV)",
        "delay (steps)",
        "plasticity",
    )
    for p in data["projections"]:
        projs.add_row(
            p["name"],
            f"{p['pre']} -> {p['post']}",
            p["rule"],
            str(p["synapses"]),
            p["target"],
            p["weight_mV"],
            p["delay_steps"],
            _stdp_text(p["plasticity"]),
        )
    console.print(projs)
    rec = data["recordings"]
    console.print("[bold]Recordings[/]")
    for kind, items in (
        ("spikes", rec["spikes"]),
        ("rates", rec["rates"]),
        ("state", rec["state"]),
        ("weights", rec["weights"]),
    ):
        console.print(f"  {kind}: {'; '.join(items) if items else 'none'}")
    mem = _table("Memory estimate (simulator)", "item", "bytes", "model")
    for item, size in data["memory_bytes"].items():
        mem.add_row(item, f"{size:,}", MEMORY_MODEL.get(item, ""))
    console.print(mem)
    core = data["core"]
    if core["fits"] is None:
        console.print("core: fit check unavailable")
    elif core["fits"]:
        console.print(f"core: fits the default core ({core['spec']})")
    else:
        console.print(f"core: does not fit the default core ({core['spec']}):")
        for problem in core["problems"]:
            console.print(f"  - {problem}")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column)
    return table
