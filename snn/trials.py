"""Independent trials of one network: per-trial seeds for the random inputs and initial state.

A network's seed fixes everything random in it: connectivity and weights, drawn neuron
parameters (its *structure*), the Poisson spike trains and the random initial membrane
potentials. A *trial* keeps the structure and redraws the rest:

- :func:`trial_seed` derives trial ``b``'s seed from the network's seed and ``b``: it is
  the child ``b`` of ``numpy.random.SeedSequence(seed).spawn(...)`` (the sequence with
  ``spawn_key=(b,)``), read out as a 63-bit integer
  (``int(child.generate_state(1, numpy.uint64)[0]) >> 1``).
- :func:`trial` returns the network of one trial: every :class:`PoissonSource` without a
  ``seed`` of its own gets one derived from the trial's seed and its declaration index, and
  every LIF group whose ``v_init`` is a distribution gets the per-neuron values drawn from
  the trial's seed. A Poisson source with its own ``seed`` is frozen noise, the same in
  every trial. Everything else (connectivity, weights, other parameters) is the network's.

``snn.simulate(net, backend="torch", batch=B)`` runs trials ``0 .. B-1``: trial ``b``
equals ``snn.simulate(snn.trial(net, snn.trial_seed(net.seed, b)))`` (bit for bit in
fixed mode; see docs/torch-backend.md for float mode), and ``seeds=[...]`` runs the trials
of given trial seeds (as ``snn sweep --seeds`` does).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import NetworkError
from .network import Network
from .populations import LIFGroup, PoissonSource
from .values import Normal, Uniform

_PURPOSE_POISSON, _PURPOSE_V_INIT = 1, 2


def _check_seed(what: str, seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise NetworkError(f"{what} must be an integer >= 0, got {seed!r}")
    return int(seed)


def _derive(*key: int) -> int:
    """A 63-bit integer seed from a tuple of non-negative integers (``SeedSequence(key)``)."""
    return int(np.random.SeedSequence(list(key)).generate_state(1, np.uint64)[0]) >> 1


def trial_seed(seed: int, index: int) -> int:
    """Seed of trial ``index`` of a network whose seed is ``seed``.

    ``SeedSequence(seed).spawn(index + 1)[index]`` (the sequence with ``spawn_key=(index,)``)
    read out as a 63-bit integer, so trials are independent streams of ``seed``.
    """
    seed = _check_seed("trial_seed: seed", seed)
    index = _check_seed("trial_seed: index", index)
    child = np.random.SeedSequence(seed, spawn_key=(index,))
    return int(child.generate_state(1, np.uint64)[0]) >> 1


def trial_seeds(seed: int, n: int) -> list[int]:
    """Seeds of trials ``0 .. n-1`` (see :func:`trial_seed`)."""
    return [trial_seed(seed, b) for b in range(n)]


def random_initial_groups(network: Network) -> list[tuple[int, LIFGroup]]:
    """``(declaration index, group)`` of the LIF groups whose ``v_init`` is a distribution."""
    return [
        (i, p)
        for i, p in enumerate(network.populations.values())
        if isinstance(p, LIFGroup) and isinstance(p.v_init, (Uniform, Normal))
    ]


def trial_poisson(network: Network) -> list[tuple[int, PoissonSource]]:
    """``(declaration index, source)`` of the Poisson sources that trials redraw (no own seed)."""
    return [
        (i, p)
        for i, p in enumerate(network.populations.values())
        if isinstance(p, PoissonSource) and p.seed is None
    ]


def trial_v_init(network: Network, seed: int) -> dict[str, np.ndarray]:
    """Initial potentials (mV) that trial ``seed`` draws for each group with a random ``v_init``."""
    seed = _check_seed("trial seed", seed)
    out = {}
    for index, group in random_initial_groups(network):
        rng = np.random.default_rng([seed, _PURPOSE_V_INIT, index])
        out[group.name] = group.v_init.draw(rng, group.n)
    return out


def trial(network: Network, seed: int) -> Network:
    """The network of the trial with seed ``seed``: same structure, its own inputs and initial state.

    The returned network shares populations and projections that the trial does not
    change; it runs on any backend (a single numba run of it is the twin of a batch trial).
    """
    seed = _check_seed("trial seed", seed)
    populations = dict(network.populations)
    for index, src in trial_poisson(network):
        populations[src.name] = dataclasses.replace(src, seed=_derive(seed, _PURPOSE_POISSON, index))
    for name, v in trial_v_init(network, seed).items():
        # v_init is the last parameter a group draws from its generator, so fixing it to an
        # array leaves every other drawn parameter of the group unchanged
        populations[name] = dataclasses.replace(populations[name], v_init=v)
    return dataclasses.replace(network, populations=populations)
