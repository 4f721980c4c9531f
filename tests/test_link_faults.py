"""Fault injection on the link: 1% of the bytes in each direction are dropped, duplicated
or bit-flipped between the driver and the simulated core. Every operation must complete,
and what is read back must equal what was meant: zero silent corruption."""

from __future__ import annotations

import numpy as np
from test_board import fixed_simulation, learning_network

from firmware_host.board import Board
from firmware_host.memory_map import Region, region_size
from firmware_host.protocol import word_format
from snn.core_spec import CoreSpec

# short frames survive a noisy line; more tries, since about one frame in three is hit
NOISY = dict(baud=3_000_000, timeout=0.01, retries=24, max_payload=48, faults=0.01)
REGIONS = (Region.FF_WEIGHT, Region.REC_WEIGHT, Region.NEURON_PARAM, Region.NEURON_STATE)


def _random_words(
    rng: np.random.Generator, spec: CoreSpec, region: Region, index: int, count: int
) -> np.ndarray:
    fmt = word_format(spec, region, index, count)
    lo = np.where(fmt.signed, -(1 << (fmt.bits - 1)), 0)
    hi = np.where(fmt.signed, (1 << (fmt.bits - 1)) - 1, (1 << fmt.bits) - 1)
    return lo + (rng.random(count) * (hi - lo + 1)).astype(np.int64)


def test_a_thousand_operations_through_a_noisy_line():
    rng = np.random.default_rng(5)
    spec = CoreSpec(max_inputs=16, max_neurons=16)
    block = 16  # writes of one batch go to distinct blocks of 16 words: frames may land in any order
    with Board("sim", spec=spec, seed=3, **NOISY) as board:
        mirror = {r: np.zeros(region_size(spec, r), np.int64) for r in REGIONS}
        operations = 0
        while operations < 1000:
            writes = []
            for region in REGIONS:
                blocks = rng.choice(region_size(spec, region) // block, size=3, replace=False)
                for b in blocks:
                    index = int(b) * block + int(rng.integers(0, block // 2))
                    count = int(rng.integers(1, block // 2 + 1))
                    words = _random_words(rng, spec, region, index, count)
                    writes.append((region, index, words))
                    mirror[region][index : index + count] = words
            board.write(writes)
            reads = []
            for _ in range(8):
                region = REGIONS[int(rng.integers(len(REGIONS)))]
                index = int(rng.integers(0, region_size(spec, region) - 20))
                reads.append((region, index, int(rng.integers(1, 20))))
            for (region, index, count), got in zip(reads, board.read(reads)):
                assert np.array_equal(got, mirror[region][index : index + count])
            operations += len(writes) + len(reads)
        final = board.read([(r, 0, region_size(spec, r)) for r in REGIONS])
        for region, got in zip(REGIONS, final):
            assert np.array_equal(got, mirror[region]), region.name
        faults = board._server.device.counts
        stats = board.link.stats
    assert faults.dropped and faults.duplicated and faults.flipped
    assert stats.resent > 50 and stats.bad_frames > 50  # the link did have to recover


def test_load_run_read_through_a_noisy_line_equal_the_simulator():
    net = learning_network(steps=80)
    spec = CoreSpec(max_inputs=48, max_neurons=80)
    with Board("sim", spec=spec, seed=11, **NOISY) as board:
        q = board.load(net)
        spikes = board.run()
        weights = board.read_weights()
        state = board.read_state()
    steps, neurons, sim_state = fixed_simulation(net, q)
    assert np.array_equal(spikes.steps, steps) and np.array_equal(spikes.neurons, neurons)
    assert np.array_equal(weights.csr(q.built), sim_state["weight"])
    for key in ("v", "i_e", "i_i", "ref"):
        assert np.array_equal(state[key], sim_state[key]), key
