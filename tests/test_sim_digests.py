"""Same seed, same network and spikes: digests of the benchmark and example networks.

The expected digests were computed from the simulator before the build was made to
work chunk by chunk in place (issue 17); any change to the network a seed gives (the
synapses, their order, the weights, the Poisson trains) or to the spikes shows here.
Regenerate only for an intended change: ``python tests/test_sim_digests.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest

import snn
from snn.models import cuba

NETWORKS = Path(__file__).resolve().parent.parent / "examples" / "networks"


def _song():
    from stdp_song import song_network

    return song_network(seconds=2.0)


def _file(name: str, duration: float = 100.0):
    def make():
        net = snn.io.load(NETWORKS / name)
        return dataclasses.replace(net, duration=min(net.duration, duration))

    return make


# name -> (network factory, simulate keyword arguments)
CASES = {
    "cuba3000_f32": (lambda: cuba(3000, duration=300.0, seed=3), dict(dtype="float32")),
    "cuba3000_f32_2t": (lambda: cuba(3000, duration=300.0, seed=3), dict(dtype="float32", threads=2)),
    "cuba2000_f64": (lambda: cuba(2000, duration=200.0, seed=1), dict(dtype="float64")),
    "cuba1500_fixed": (lambda: cuba(1500, duration=100.0, seed=2), dict(mode="fixed")),
    "song_2s": (_song, {}),
    "song_2s_fixed": (_song, dict(mode="fixed")),
    "cuba_toml": (_file("cuba.toml"), {}),
    "every_feature": (_file("every_feature.toml"), {}),
    "every_feature_fixed": (_file("every_feature.toml"), dict(mode="fixed")),
    "small_core_fixed": (_file("small_core.toml"), dict(mode="fixed")),
    "board_demo_fixed": (_file("board_demo.toml"), dict(mode="fixed")),
}


def digest(name: str) -> str:
    """SHA-256 (first 16 hex digits) of the built network, the spikes and the recorded weights."""
    make, kwargs = CASES[name]
    net = make()
    h = hashlib.sha256()
    built = net.build()
    for arr, dtype in ((built.syn_ptr, np.int64), (built.syn_post, np.int64), (built.syn_weight, np.float64),
                       (built.syn_delay, np.int64), (built.syn_exc, np.bool_), (built.syn_rule, np.int64),
                       (built.input_ptr, np.int64), (built.input_ids, np.int64)):  # fmt: skip
        h.update(np.ascontiguousarray(arr, dtype).tobytes())
    for proj in net.projections:
        h.update(np.ascontiguousarray(built.proj_positions[proj], np.int64).tobytes())
        for part in built.projection_pairs(proj):
            h.update(np.ascontiguousarray(part, np.int64).tobytes())
    res = snn.simulate(net, progress=False, **kwargs)
    for pop in sorted(res.spikes):
        h.update(pop.encode())
        h.update(np.ascontiguousarray(res.spikes[pop].steps, np.int64).tobytes())
        h.update(np.ascontiguousarray(res.spikes[pop].ids, np.int64).tobytes())
    for proj in sorted(res.weights):
        h.update(proj.encode())
        h.update(np.ascontiguousarray(res.weights[proj], np.float64).tobytes())
        h.update(np.ascontiguousarray(res.weight_pairs[proj], np.int64).tobytes())
    return h.hexdigest()[:16]


# computed from commit 360634b (before issue 17's build changes)
EXPECTED = {
    "board_demo_fixed": "3a9922a816d07e5d",
    "cuba1500_fixed": "bf71c451312c0cf4",
    "cuba2000_f64": "946925eb39424bb9",
    "cuba3000_f32": "94a6d498b3dc481e",
    "cuba3000_f32_2t": "94a6d498b3dc481e",
    "cuba_toml": "291d7d0b53632bb8",
    "every_feature": "8d11be81e4563df3",
    "every_feature_fixed": "ce4c4544b9ab3cdc",
    "small_core_fixed": "478895a6c16b5f5e",
    "song_2s": "e1d19c7896244f42",
    "song_2s_fixed": "7f38051a16b8bbf9",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_same_spikes(name):
    assert digest(name) == EXPECTED[name]


if __name__ == "__main__":
    for case in sorted(CASES):
        print(f'    "{case}": "{digest(case)}",', flush=True)


@pytest.mark.parametrize("name", ["cuba3000_f32_2t", "every_feature", "song_2s"])
def test_chunked_build_gives_the_same_network(name, monkeypatch):
    """Chunks of a few hundred synapses (many per projection and per layout batch): same digest."""
    import snn.build
    import snn.sim.layout

    monkeypatch.setattr(snn.build, "CHUNK", 397)
    monkeypatch.setattr(snn.sim.layout, "CHUNK", 397)
    assert digest(name) == EXPECTED[name]
