"""Replies that arrive intact (right CRC) but that the driver cannot parse: each is a
``BadReply`` (a ``BoardError``) naming the command and what was wrong, and the CLI
prints it in one line with exit status 2."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.board import Board
from firmware_host.device_model import DeviceModel
from firmware_host.errors import BadReply
from firmware_host.framing import Frame, StreamDecoder
from firmware_host.memory_map import Control, NeuronParam, Region
from firmware_host.protocol import REPLY, Opcode
from firmware_host.transports import PtyServer
from snn.cli import main
from snn.core_spec import CoreSpec

SPEC = CoreSpec(max_inputs=8, max_neurons=8)


class Mangler:
    """The device model, with the replies to ``opcode`` re-framed (valid CRC) with a
    payload ``mangle(payload)``; ``drop_records`` loses every SPIKES_OUT frame."""

    def __init__(self, opcode: Opcode, mangle, drop_records: bool = False) -> None:
        self.device = DeviceModel(SPEC)
        self.opcode, self.mangle, self.drop_records = opcode, mangle, drop_records
        self._decoder = StreamDecoder()

    def exchange(self, received: bytes) -> bytes:
        """The model's answer, its frames for ``opcode`` changed."""
        out = b""
        for frame in self._decoder.feed(self.device.exchange(received)):
            if frame.opcode == Opcode.SPIKES_OUT and self.drop_records:
                continue
            if frame.opcode == self.opcode | REPLY:
                frame = Frame(frame.seq, frame.opcode, self.mangle(frame.payload))
            out += frame.encode()
        return out

    def idle(self) -> None:
        """Pass the time-out on."""
        self.device.idle()


def short(p: bytes) -> bytes:
    return p[:-1]


def long(p: bytes) -> bytes:
    return p + b"\x07"


def _spiking_neuron(board: Board) -> None:
    """Neuron 0 spikes every timestep (v_init = v_reset = 10 >= v_thresh = 0, no leak)."""
    board.write([(Region.CONTROL, Control.N_INPUTS, np.array([1, 1]))])
    board.write([(Region.NEURON_PARAM, NeuronParam.V_RESET, np.array([10, 10]))])
    board.reset()


CASES = {
    "IDENTIFY short": (Opcode.IDENTIFY, short, None, "IDENTIFY with 46 data byte"),
    "IDENTIFY long": (Opcode.IDENTIFY, long, None, "IDENTIFY with 48 data byte"),
    "STATUS short": (Opcode.STATUS, short, lambda b: b.status(), "STATUS with 7 data byte"),
    "STATUS long": (Opcode.STATUS, long, lambda b: b.status(), "STATUS with 9 data byte"),
    "READ short": (
        Opcode.READ,
        short,
        lambda b: b.read([(Region.CONTROL, 0, 3)]),
        "READ with 5 data byte.*need 6 bytes, got 5",
    ),
    "READ long": (
        Opcode.READ,
        long,
        lambda b: b.read([(Region.CONTROL, 0, 3)]),
        "READ with 7 data byte.*need 6 bytes, got 7",
    ),
    "STEP short": (Opcode.STEP, short, lambda b: b.run(2, inputs=[]), "STEP with 5 data byte"),
    "STEP long": (Opcode.STEP, long, lambda b: b.run(2, inputs=[]), "STEP with 7 data byte"),
    "no reply head": (Opcode.STATUS, lambda p: p[:1], lambda b: b.status(), "STATUS with 1 payload byte"),
    "unknown status": (Opcode.STATUS, lambda p: b"\x0f" + p[1:], lambda b: b.status(), "status 0x0f"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_reply_that_does_not_parse_is_a_bad_reply(case):
    opcode, mangle, call, message = CASES[case]
    with PtyServer(Mangler(opcode, mangle)) as server:
        if call is None:  # IDENTIFY: the constructor asks
            with pytest.raises(BadReply, match=message):
                Board(server.port, timeout=0.05)
            return
        with Board(server.port, timeout=0.05) as board:
            with pytest.raises(BadReply, match=message):
                call(board)


def test_a_resent_spike_record_that_does_not_parse_is_a_bad_reply():
    with PtyServer(Mangler(Opcode.SPIKES_RESEND, short, drop_records=True)) as server:
        with Board(server.port, timeout=0.05) as board:
            _spiking_neuron(board)
            with pytest.raises(BadReply, match="SPIKES_RESEND with 10 data byte"):
                board.run(1, inputs=[])


def test_the_cli_prints_a_bad_reply_in_one_line(capsys):
    with PtyServer(Mangler(Opcode.IDENTIFY, short)) as server:
        assert main(["board", "info", "--port", server.port, "--timeout", "0.05"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "answered IDENTIFY with 46 data byte(s) that do not parse" in lines[0]
    assert "Traceback" not in captured.err + captured.out
