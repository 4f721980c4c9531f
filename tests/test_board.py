"""The Board driver end to end through a pseudo-terminal, against the simulated core.

The driver opens /dev/pts/N with pyserial exactly as it opens /dev/ttyUSB0; what comes
back (spikes, weights, state) must equal ``snn``'s fixed-point simulator bit for bit.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import snn
from firmware_host.board import Board, CoreWeights
from firmware_host.device_model import DeviceModel
from firmware_host.errors import NoAnswer, ProtocolMismatch
from firmware_host.memory_map import Region
from firmware_host.transports import PtyServer
from snn.cli import main
from snn.core_spec import CoreSpec
from snn.quantize import quantize
from snn.sim import Simulator
from snn.testing.random_networks import random_case

FAST = dict(baud=3_000_000, timeout=0.05)


def learning_network(seed: int = 1, rule: str = "pair", steps: int = 200, **pair) -> snn.Network:
    """Poisson inputs into excitatory neurons (plastic FF and REC), plus an inhibitory group.

    Plastic projections are all-to-all: the core enables STDP per row and column.
    """
    net = snn.Network(dt=0.5, duration=steps * 0.5, seed=seed)
    net.poisson("inp", 40, rate=80.0)
    exc = net.lif(
        "exc", 50, tau_m=snn.Uniform(10.0, 30.0), v_init=snn.Uniform(-65.0, -52.0),
        t_ref=snn.Uniform(0.0, 3.0), i_bias=snn.Uniform(0.0, 14.0),
    )  # fmt: skip
    inh = net.lif("inh", 25, tau_syn_i=8.0)
    if rule == "pair":
        ff = snn.PairSTDP(
            a_plus=0.05, a_minus=0.06, tau_plus=15.0, tau_minus=20.0, w_min=0.0, w_max=4.0, **pair
        )
        rec = snn.PairSTDP(a_plus=0.04, a_minus=0.05, tau_plus=10.0, tau_minus=10.0, w_min=0.0, w_max=3.0)
    else:
        ff = snn.WindowSTDP(dw_plus=0.1, dw_minus=0.1, window_pre=5, window_post=4, w_min=0.0, w_max=4.0)
        rec = snn.WindowSTDP(dw_plus=0.1, dw_minus=0.05, window_pre=3, window_post=3, w_min=0.0, w_max=3.0)
    net.connect("in_exc", "inp", exc, snn.AllToAll(), weight=snn.Uniform(0.5, 3.0), stdp=ff)
    net.connect("exc_exc", exc, exc, snn.AllToAll(), weight=snn.Uniform(0.0, 1.0), stdp=rec)
    net.connect("exc_inh", exc, inh, snn.FixedProbability(0.3), weight=2.0)
    net.connect("inh_exc", inh, exc, snn.FixedProbability(0.3), weight=-3.0, target="inh")
    return net


def fixed_simulation(net: snn.Network, q) -> tuple[np.ndarray, np.ndarray, dict]:
    """Spikes (global neuron indices, time order) and final state of the fixed-point simulator."""
    groups = [g.name for g in net.lif_groups]
    sim = Simulator(net, "fixed", quantized=q, spike_populations=groups, progress=False)
    sim.run(q.built.n_steps)
    res = sim.results()
    steps = np.concatenate([res.spikes[g].steps for g in groups])
    neurons = np.concatenate([res.spikes[g].ids + q.built.lif_slices[g].start for g in groups])
    order = np.lexsort((neurons, steps))
    return steps[order], neurons[order], sim.state


def board_run(net_or_q, **options):
    with Board("sim", **FAST, **options) as board:
        q = board.load(net_or_q)
        spikes = board.run()
        weights = board.read_weights()
        state = board.read_state()
        stats = board.link.stats
    return q, spikes, weights, state, stats


def assert_same_as_simulator(net: snn.Network, q, spikes, weights: CoreWeights, state) -> None:
    steps, neurons, sim_state = fixed_simulation(net, q)
    assert steps.size > 20, "the network should spike"
    assert np.array_equal(spikes.steps, steps) and np.array_equal(spikes.neurons, neurons)
    assert np.array_equal(weights.csr(q.built), sim_state["weight"])
    for key in ("v", "i_e", "i_i", "ref"):
        assert np.array_equal(state[key], sim_state[key]), key
    assert state["timestep"] == q.built.n_steps


@pytest.mark.parametrize(
    "rule, pair",
    [("pair", {}), ("pair", {"mode": "multiplicative", "pairing": "nearest"}), ("window", {})],
    ids=["pair-additive", "pair-multiplicative-nearest", "window"],
)
def test_load_run_read_equal_the_fixed_simulator(rule, pair):
    net = learning_network(rule=rule, **pair)
    q, spikes, weights, state, _ = board_run(net)
    assert_same_as_simulator(net, q, spikes, weights, state)
    # the learning engine ran: weights moved away from the loaded ones
    assert not np.array_equal(weights.csr(q.built), q.weight)


@pytest.mark.parametrize("seed", [10, 11, 12, 19])
def test_random_static_networks_equal_the_fixed_simulator(seed):
    net, q = random_case(seed, stdp=False, max_inputs=64, max_neurons=64, n_steps=200)
    q, spikes, weights, state, _ = board_run(q)
    assert_same_as_simulator(net, q, spikes, weights, state)


def test_run_in_pieces_and_explicit_inputs():
    net = learning_network(steps=100)
    with Board("sim", **FAST, input_depth=8) as board:  # many chunks of SPIKES_IN + STEP
        q = board.load(net)
        first = board.run(30)
        rest = board.run()
        assert board.status().timestep == 100
        board.load(q)  # the learned weights back to the initial ones, and the state reset
        inputs = [q.built.input_ids[q.built.input_ptr[t] : q.built.input_ptr[t + 1]] for t in range(100)]
        again = board.run(100, inputs=inputs)
    assert np.array_equal(np.concatenate([first.steps, rest.steps]), again.steps)
    assert np.array_equal(np.concatenate([first.neurons, rest.neurons]), again.neurons)


def test_network_too_big_is_refused_and_the_loaded_one_kept():
    small = snn.Network(dt=1.0, duration=10.0)
    small.poisson("p", 4, rate=50.0)
    small.lif("n", 6)
    small.connect("pn", "p", "n", snn.AllToAll(), weight=1.0)
    big = learning_network()
    with Board("sim", **FAST, spec=CoreSpec(max_inputs=8, max_neurons=8)) as board:
        q = board.load(small)
        before = board.read_weights()
        with pytest.raises(snn.FitError, match="does not fit the core on the board at sim: 40 spike sources"):
            board.load(big)
        after = board.read_weights()
        assert np.array_equal(before.ff, after.ff) and np.array_equal(after.csr(q.built), q.weight)


def test_low_level_write_read_and_coalescing():
    with Board("sim", **FAST) as board:
        rows = [(Region.REC_WEIGHT, r * 256, np.full(256, r - 100)) for r in range(8)]
        board.write(rows)  # 8 consecutive rows travel as 2 frames of 1 KiB
        (got,) = board.read([(Region.REC_WEIGHT, 0, 8 * 256)])
        assert np.array_equal(got, np.concatenate([w for _, _, w in rows]))
        assert board.link.stats.frames_sent == 1 + 2 + 2  # IDENTIFY, writes, reads


def test_no_answer_names_port_and_baud():
    class Silent:
        def exchange(self, received: bytes) -> bytes:
            return b""

        def idle(self) -> None:
            pass

    with PtyServer(Silent()) as server:
        with pytest.raises(NoAnswer, match=f"no answer on port {server.port} at 115200 baud"):
            Board(server.port, 115200, timeout=0.01, retries=2)


def test_a_loopback_is_not_a_board():
    with pytest.raises(NoAnswer, match="no answer on port loop://"):
        Board("loop://", timeout=0.01, retries=1)


def test_protocol_version_mismatch_is_named():
    device = DeviceModel()
    device.identity = dataclasses.replace(device.identity, version=2)
    with PtyServer(device) as server:
        with pytest.raises(ProtocolMismatch, match="board speaks version 2, this host speaks version 1"):
            Board(server.port, timeout=0.05)


def test_cli_board_info_run_read(tmp_path, capsys):
    assert main(["board", "info", "--port", "sim"]) == 0
    assert "256 inputs x 256 neurons" in capsys.readouterr().out
    net = learning_network(steps=60)
    path = tmp_path / "net.toml"
    snn.io.save(net, path)
    out = tmp_path / "spikes.npz"
    assert main(["board", "run", str(path), "--port", "sim", "--baud", "3000000", "--save", str(out)]) == 0
    text = capsys.readouterr().out
    assert "exc" in text and "spikes" in text
    saved = np.load(out)
    steps, neurons, _ = fixed_simulation(net, quantize(net))
    assert np.array_equal(saved["steps"], steps) and np.array_equal(saved["neurons"], neurons)
    assert main(["board", "read", str(path), "--port", "sim", "--what", "weights"]) == 0
    assert "in_exc" in capsys.readouterr().out
    assert main(["board", "info", "--port", "loop://", "--timeout", "0.01"]) == 2
    assert "no answer on port loop://" in capsys.readouterr().err


def test_simulated_gateware_is_sized_for_the_network():
    from firmware_host.cli import _rtl_size_for

    examples = Path(__file__).resolve().parent.parent / "examples" / "networks"
    assert _rtl_size_for(examples / "board_demo.toml") == 16  # 8 inputs, 16 neurons
    assert _rtl_size_for(examples / "small_core.toml") == 128  # 64 inputs, 100 neurons
    assert _rtl_size_for(None) == 16
