"""Run-time inputs: spike trains given to a run by population name, replacing a source's own.

``snn.simulate(net, inputs={"input": x})`` with ``x`` a ``(steps, n)`` array of 0/1 gives
the spike source ``"input"`` (``n`` elements) the spikes ``x[t, k]`` at step ``t`` for
that run, so one network serves a whole data set without being rebuilt. Sources that are
not named keep their own spikes (Poisson draws, spike lists). The torch backend takes a
batch axis, ``(batch, steps, n)``.

The functions here only validate and convert; the simulators call them at their entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from ..build import BuiltNetwork
from ..errors import NetworkError
from ..populations import LIFGroup


def check_inputs(built: BuiltNetwork, inputs: object, *, batched: bool = False) -> tuple[dict, int]:
    """Validate ``inputs`` (population name -> 0/1 array); return ``({name: bool array}, steps)``.

    Arrays are ``(steps, n)``, or ``(batch, steps, n)`` when ``batched`` (a 2-D array is then
    one trial for every copy). Every array must have the same number of steps.
    """
    if not isinstance(inputs, Mapping):
        raise NetworkError(
            f"inputs must be a dict of population name -> (steps, n) 0/1 array, got {type(inputs).__name__}"
        )
    net = built.network
    out: dict[str, np.ndarray] = {}
    steps: int | None = None
    for name, value in inputs.items():
        if name not in net.populations:
            known = ", ".join(p.name for p in net.sources) or "none"
            raise NetworkError(f"inputs: unknown population {name!r} (spike sources: {known})")
        pop = net.populations[name]
        if isinstance(pop, LIFGroup):
            known = ", ".join(p.name for p in net.sources) or "none"
            raise NetworkError(
                f"inputs: population {name!r} is a LIF group; inputs replace spike sources ({known})"
            )
        arr = np.asarray(value)
        want = "(batch, steps, n) or (steps, n)" if batched else "(steps, n)"
        if arr.ndim not in ((2, 3) if batched else (2,)) or arr.shape[-1] != pop.n:
            raise NetworkError(
                f"inputs[{name!r}]: shape {arr.shape}, expected {want} with n = {pop.n} (the population's size)"
            )
        if arr.shape[-2] < 1:
            raise NetworkError(f"inputs[{name!r}]: no timesteps (shape {arr.shape}); give at least one")
        if not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.number)):
            raise NetworkError(f"inputs[{name!r}]: expected 0/1 numbers, got dtype {arr.dtype}")
        if arr.dtype != np.bool_:
            bad = (arr != 0) & (arr != 1)
            if np.any(bad):
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                raise NetworkError(
                    f"inputs[{name!r}]: values must be 0 or 1 (one spike per element and step), "
                    f"found {arr[idx].item()!r} at index {idx}"
                )
        if steps is not None and arr.shape[-2] != steps:
            raise NetworkError(
                f"inputs: every array needs the same number of steps; {name!r} has {arr.shape[-2]}, "
                f"another has {steps}"
            )
        steps = int(arr.shape[-2])
        out[name] = arr != 0
    if steps is None:
        raise NetworkError("inputs: empty dict; name at least one spike source, or pass no inputs")
    return out, steps


def with_inputs(
    built: BuiltNetwork, inputs: Mapping, start: int = 0, *, window: bool = False
) -> BuiltNetwork:
    """A copy of ``built`` whose input spikes are its own with ``inputs`` replacing the named sources.

    ``inputs`` start at step ``start``. The named sources lose all their own spikes, or
    (``window``) only those in the steps the inputs cover. The copy's input events cover
    ``max(start + steps of inputs, the steps built has)`` steps.
    """
    arrays, steps = check_inputs(built, inputs)
    n_steps = max(start + steps, built.input_ptr.size - 1)
    replaced = np.zeros(built.n_sources, bool)
    for name in arrays:
        replaced[built.source_slices[name]] = True
    # the built events of the sources that keep their spikes
    ev_steps = np.repeat(np.arange(built.input_ptr.size - 1), np.diff(built.input_ptr))
    drop = replaced[built.input_ids]
    if window:
        drop &= (ev_steps >= start) & (ev_steps < start + steps)
    all_steps, all_ids = [ev_steps[~drop]], [built.input_ids[~drop]]
    for name, arr in arrays.items():
        t, k = np.nonzero(arr)
        all_steps.append(t.astype(np.int64) + start)
        all_ids.append(k.astype(np.int64) + built.source_slices[name].start)
    ev_steps, ids = np.concatenate(all_steps), np.concatenate(all_ids)
    order = np.lexsort((ids, ev_steps))
    ptr = np.zeros(n_steps + 1, np.int64)
    np.cumsum(np.bincount(ev_steps, minlength=n_steps)[:n_steps], out=ptr[1:])
    return dataclasses.replace(built, input_ptr=ptr, input_ids=ids[order].astype(np.int64))


def dense_inputs(built: BuiltNetwork, inputs: Mapping, batch: int | None = None) -> np.ndarray:
    """All sources' spikes as a ``(batch, steps, n_sources)`` bool array (the torch engine's form).

    Named sources take their arrays (a 2-D array serves every trial); the others keep the
    network's own spikes, the same in every trial. ``batch`` defaults to the arrays' batch
    size (1 when all are 2-D).
    """
    arrays, steps = check_inputs(built, inputs, batched=True)
    sizes = {a.shape[0] for a in arrays.values() if a.ndim == 3}
    if len(sizes) > 1:
        raise NetworkError(f"inputs: arrays have different batch sizes {sorted(sizes)}; use one")
    if batch is None:
        batch = sizes.pop() if sizes else 1
    elif sizes and sizes != {batch}:
        raise NetworkError(f"inputs: arrays hold {sizes.pop()} trials for a batch of {batch}")
    out = np.zeros((batch, steps, built.n_sources), bool)
    hi = min(steps, built.input_ptr.size - 1)
    ev_steps = np.repeat(np.arange(hi), np.diff(built.input_ptr[: hi + 1]))
    out[:, ev_steps, built.input_ids[: built.input_ptr[hi]]] = True
    for name, arr in arrays.items():
        out[:, :, built.source_slices[name]] = arr if arr.ndim == 3 else arr[None]
    return out


def input_steps(inputs: object) -> int | None:
    """The number of steps of a dict of inputs (the last-but-one axis), or None if not a dict."""
    if not isinstance(inputs, Mapping) or not inputs:
        return None
    first = np.asarray(next(iter(inputs.values())))
    return int(first.shape[-2]) if first.ndim >= 2 else None


def load_inputs(path, network) -> dict[str, np.ndarray]:
    """Read run-time inputs from a file: ``.npz`` (one array per source name) or ``.npy``.

    A ``.npy`` array goes to the network's only spike source, or to the one named
    ``input`` (a NIR import's); other networks need an ``.npz`` whose keys name them.
    """
    from pathlib import Path

    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise NetworkError(f"inputs file {path}: cannot read it as .npy/.npz ({exc})") from None
    if isinstance(data, np.ndarray):
        sources = [p.name for p in network.sources]
        if len(sources) > 1 and "input" in sources:  # NIR imports: 'input' (and 'bias')
            sources = ["input"]
        if len(sources) != 1:
            raise NetworkError(
                f"inputs file {path}: a .npy array needs a network with exactly one spike source, "
                f"or one named 'input'; this one has {len(sources)} ({', '.join(sources) or 'none'}); use an .npz keyed by name"
            )
        return {sources[0]: data}
    with data:
        return {name: data[name] for name in data.files}
