"""One RESET_STATE for the device model and the gateware (docs/protocol.md, "Reset"): the
neurons below N_NEURONS get v = V_INIT and zero currents and refractory counters, the
neurons above keep their state, every trace is 0. Both devices are driven through the
same ``Board`` calls and must read back the same memory; and a run-state command aimed
at the seq of the last one is executed by the gateware as by the model."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.board import Board
from firmware_host.memory_map import (
    PARAM_STRIDE,
    STATE_STRIDE,
    Control,
    NeuronParam,
    NeuronState,
    Region,
    region_size,
)
from firmware_host.protocol import SEQ_MODULO
from hdl.link.rtl_device import serve_rtl
from snn.core_spec import CoreSpec

SPEC = CoreSpec(max_inputs=8, max_neurons=8)
IN_USE = 5  # N_NEURONS: neurons 5..7 are not in use


def _reset_and_read(board: Board) -> dict[Region, np.ndarray]:
    n = SPEC.max_neurons
    rng = np.random.default_rng(3)
    params = np.zeros((n, PARAM_STRIDE), np.int64)
    params[:, NeuronParam.V_INIT] = -100 - np.arange(n)
    state = np.zeros((n, STATE_STRIDE), np.int64)
    state[:, NeuronState.V] = 1000 + np.arange(n)
    state[:, NeuronState.I_E] = rng.integers(1, 500, n)
    state[:, NeuronState.I_I] = -rng.integers(1, 500, n)
    state[:, NeuronState.REF] = rng.integers(1, 3, n)
    traces = rng.integers(1, 100, region_size(SPEC, Region.TRACE))
    board.write(
        [
            (Region.CONTROL, Control.N_INPUTS, np.array([SPEC.max_inputs, IN_USE])),
            (Region.NEURON_PARAM, 0, params.ravel()),
            (Region.NEURON_STATE, 0, state.ravel()),
            (Region.TRACE, 0, traces),
        ]
    )
    board.reset()
    got = board.read([(r, 0, region_size(SPEC, r)) for r in (Region.NEURON_STATE, Region.TRACE)])
    after = dict(zip((Region.NEURON_STATE, Region.TRACE), got))
    # the documented semantics
    want = state.copy()
    want[:IN_USE] = 0
    want[:IN_USE, NeuronState.V] = params[:IN_USE, NeuronParam.V_INIT]
    assert np.array_equal(after[Region.NEURON_STATE].reshape(n, STATE_STRIDE), want)
    assert not after[Region.TRACE].any()
    # a RESET_STATE aimed at the seq of the one before (the issue 15 repro, without the
    # 255 requests between): it must be executed, not taken for a repeat
    board.write([(Region.NEURON_STATE, NeuronState.V, np.array([1234]))])
    board.link._seq = (board.link._last_once - 1) % SEQ_MODULO
    board.reset()
    (v0,) = board.read([(Region.NEURON_STATE, NeuronState.V, 1)])
    assert v0[0] == params[0, NeuronParam.V_INIT]
    return after


@pytest.fixture(scope="module")
def rtl_board():
    server = serve_rtl(SPEC)
    try:
        with Board(server.port, 3_000_000, timeout=30.0) as board:
            yield board
    finally:
        server.close()
    assert server.error is None


def test_reset_is_the_same_on_the_model_and_the_gateware(rtl_board):
    with Board("sim", 3_000_000, spec=SPEC) as model:
        from_model = _reset_and_read(model)
    from_rtl = _reset_and_read(rtl_board)
    for region in from_model:
        assert np.array_equal(from_model[region], from_rtl[region]), region.name
