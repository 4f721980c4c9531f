"""Parameter overrides of a sweep: names, values from the command line, and applying them.

A swept parameter is named ``NAME.PARAM`` with ``NAME`` a population or a projection of
the network, or one of the run settings below:

- population: a LIF parameter (``exc.tau_m``, ``exc.v_thresh``, ... in the API's units:
  ms, mV), a Poisson source's ``rate`` (Hz);
- projection: ``weight`` (mV), ``delay`` (steps), a field of its connectivity rule
  (``p`` of ``fixed_probability``, ``k`` of ``fixed_in_degree``, ...) or of its STDP rule
  (``a_plus``, ``w_max``, ...);
- run settings: ``duration`` (ms), ``mode`` (``float``/``fixed``), ``backend``
  (``numba``/``torch``), ``network.seed`` (the seed of the network's structure) and
  ``network.dt`` (ms). The trial ``seed`` has its own axis (``seeds=``, ``--seeds``).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Mapping

from ..errors import NetworkError
from ..network import Network
from ..populations import LIF_PARAMETERS, LIFGroup, PoissonSource

RUN_SETTINGS = ("duration", "mode", "backend", "network.seed", "network.dt")
MODES, BACKENDS = ("float", "fixed"), ("numba", "torch")


def parse_value(text: str) -> int | float | str:
    """A command-line value: an integer, a float, or a word (``fixed``, ``torch``)."""
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if not text:
        raise NetworkError("--param: empty value; write NAME.PARAM=V1,V2,...")
    return text


def parse_param(spec: str) -> tuple[str, list]:
    """``"exc.tau_m=10,20"`` -> ``("exc.tau_m", [10, 20])``."""
    name, sep, values = spec.partition("=")
    name = name.strip()
    if not sep or not name or not values.strip():
        raise NetworkError(f"--param {spec!r}: write NAME.PARAM=V1,V2,... (e.g. exc.tau_m=10,20)")
    return name, [parse_value(v) for v in values.split(",")]


def parse_seeds(spec: str) -> list[int]:
    """``"A:B"`` (A to B-1, as Python's range) or ``"S1,S2,..."``: trial seeds."""
    try:
        if ":" in spec:
            a, b = (int(x) for x in spec.split(":"))
            seeds = list(range(a, b))
        else:
            seeds = [int(x) for x in spec.split(",")]
    except ValueError:
        raise NetworkError(f"--seeds {spec!r}: write A:B (seeds A to B-1) or S1,S2,...") from None
    if not seeds or min(seeds) < 0:
        raise NetworkError(f"--seeds {spec!r}: give at least one seed, all >= 0 (A:B runs A to B-1)")
    return seeds


def grid(params: Mapping[str, Iterable]) -> list[dict]:
    """Every combination of the values of ``params`` (the last parameter varies fastest)."""
    names = list(params)
    values = [list(params[n]) for n in names]
    for name, vals in zip(names, values):
        if not vals:
            raise NetworkError(f"parameter {name!r}: give at least one value")
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def check_names(network: Network, names: Iterable[str]) -> None:
    """Refuse unknown names before anything runs (one line naming the problem and the fix)."""
    for name in names:
        if name in RUN_SETTINGS:
            continue
        target, _, param = name.partition(".")
        if not param:
            raise NetworkError(
                f"parameter {name!r}: write NAME.PARAM (NAME a population or projection) or one of "
                f"{', '.join(RUN_SETTINGS)}"
            )
        if target not in network.populations and target not in network.projections:
            known = ", ".join([*network.populations, *network.projections])
            raise NetworkError(f"parameter {name!r}: no population or projection {target!r} (known: {known})")


def apply(network: Network, overrides: Mapping[str, object]) -> tuple[Network, dict]:
    """A copy of ``network`` with ``overrides`` applied, and the run settings among them.

    Returns ``(network, settings)``; ``settings`` holds ``duration``, ``mode`` and
    ``backend`` where they were overridden. The original network is not changed.
    """
    check_names(network, overrides)
    pops, projs = dict(network.populations), dict(network.projections)
    settings: dict = {}
    top: dict = {}
    for name, value in overrides.items():
        if name in ("mode", "backend"):
            allowed = MODES if name == "mode" else BACKENDS
            if value not in allowed:
                raise NetworkError(f"parameter {name}: {value!r} is not one of {', '.join(allowed)}")
            settings[name] = value
        elif name == "duration":
            top["duration"] = value
        elif name.startswith("network."):
            top[name.split(".", 1)[1]] = value
        else:
            target, _, param = name.partition(".")
            if target in pops:
                pops[target] = _population(pops[target], param, value)
            else:
                projs[target] = _projection(projs[target], param, value)
    if "seed" in top:
        top["seed"] = _integer("network.seed", top["seed"])
    net = dataclasses.replace(network, populations=pops, projections=projs, **top)
    for proj in projs.values():
        net._check_projection(proj, net.populations[proj.pre], net.populations[proj.post])
    return net, settings


def _integer(name: str, value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise NetworkError(f"parameter {name}: expected an integer, got {value!r}")
    return value


def _population(pop, param: str, value: object):
    if isinstance(pop, LIFGroup):
        allowed = tuple(LIF_PARAMETERS)
    elif isinstance(pop, PoissonSource):
        allowed = ("rate",)
    else:
        allowed = ()
    if param not in allowed:
        what = f"parameters: {', '.join(allowed)}" if allowed else "explicit spike trains take no parameters"
        raise NetworkError(f"population {pop.name!r} has no sweepable parameter {param!r} ({what})")
    return dataclasses.replace(pop, **{param: value})


def _projection(proj, param: str, value: object):
    if param in ("weight", "target"):
        return dataclasses.replace(proj, **{param: value})
    if param == "delay":
        return dataclasses.replace(proj, delay=_integer(f"{proj.name}.delay", value))
    for field in ("connectivity", "stdp"):
        rule = getattr(proj, field)
        if rule is not None and param in {f.name for f in dataclasses.fields(rule)}:
            return dataclasses.replace(proj, **{field: dataclasses.replace(rule, **{param: value})})
    options = ["weight", "delay", "target"]
    for field in ("connectivity", "stdp"):
        rule = getattr(proj, field)
        if rule is not None:
            options += [f.name for f in dataclasses.fields(rule)]
    raise NetworkError(
        f"projection {proj.name!r} has no sweepable parameter {param!r} (parameters: {', '.join(options)})"
    )
