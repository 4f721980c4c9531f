"""The gateware behind a pseudo-terminal: ``firmware_host.Board`` opens /dev/pts/N served by
the RTL in the Amaranth simulator (:func:`hdl.link.rtl_device.serve_rtl`) as it opens a USB
UART, and loads, runs and reads back a network with the fixed simulator's results."""

from __future__ import annotations

import dataclasses

import numpy as np
from test_board import fixed_simulation

from firmware_host.board import Board
from hdl.link.rtl_device import serve_rtl
from snn.cli import main
from snn.core_spec import CoreSpec
from snn.testing.random_networks import random_case

SPEC = CoreSpec(max_inputs=8, max_neurons=8)
STEPS = 30


def test_board_load_run_read_through_the_rtl():
    net, q = random_case(12, stdp=True, max_inputs=8, max_neurons=8, n_steps=STEPS)
    server = serve_rtl(SPEC)
    try:
        # a generous reply timeout: the simulated RTL is slow on a loaded machine, and a
        # resend must mean a lost frame, not a slow simulator
        with Board(server.port, 3_000_000, timeout=30.0) as board:
            assert board.identity.spec == SPEC and board.identity.spike_log == 1
            board.load(dataclasses.replace(q, spec=SPEC))
            spikes = board.run()
            weights = board.read_weights()
            state = board.read_state()
            resent = board.link.stats.resent
    finally:
        server.close()
    assert server.error is None
    steps, neurons, sim_state = fixed_simulation(net, q)
    assert steps.size >= 5
    assert np.array_equal(spikes.steps, steps) and np.array_equal(spikes.neurons, neurons)
    assert np.array_equal(weights.csr(q.built), sim_state["weight"])
    for key in ("v", "i_e", "i_i", "ref"):
        assert np.array_equal(state[key], sim_state[key]), key
    assert state["timestep"] == STEPS
    assert resent == 0


def test_cli_info_on_the_rtl(capsys):
    assert main(["board", "info", "--port", "sim-rtl", "--rtl-size", "8"]) == 0
    out = capsys.readouterr().out
    assert "8 inputs x 8 neurons" in out and "1 spike records kept" in out
