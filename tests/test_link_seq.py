"""Sequence numbers and run-state commands: a command that the driver reports as done has
been executed exactly once, through wraps of the 8-bit sequence number, retries, lost and
doubled frames and replies, late replies, bit flips and reconnects (docs/protocol.md,
"Sequence numbers").

The property test runs the real :class:`firmware_host.link.Link` against the device
model through an in-process line whose faults hypothesis chooses frame by frame; the
device logs every run-state command it executes, attributed to the host command being
issued (the line delivers each write at once, so every copy of a command reaches the
device while that command is being issued)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firmware_host.board import Board
from firmware_host.device_model import DeviceModel
from firmware_host.errors import BoardError
from firmware_host.link import Link, Request
from firmware_host.memory_map import Control, NeuronParam, NeuronState, Region
from firmware_host.protocol import (
    ADDRESS,
    EXECUTE_ONCE,
    SEQ_MODULO,
    STEP,
    STEP_REPLY,
    Opcode,
    decode_words,
    encode_words,
)
from snn.core_spec import CoreSpec

SPEC = CoreSpec(max_inputs=8, max_neurons=8)


def _set_sizes_and_v_init(board: Board, v_init: int) -> None:
    board.write([(Region.CONTROL, Control.N_INPUTS, np.array([8, 8]))])
    board.write([(Region.NEURON_PARAM, NeuronParam.V_INIT, np.array([v_init]))])


def _v0(board: Board) -> int:
    return int(board.read([(Region.NEURON_STATE, NeuronState.V, 1)])[0][0])


def test_a_reset_after_255_requests_is_carried_out():
    """The issue's repro: RESET_STATE, 255 requests, RESET_STATE again: the second one
    had the first one's sequence number and was answered DUPLICATE without a reset."""
    with Board("sim", 3_000_000, spec=SPEC) as board:
        _set_sizes_and_v_init(board, -100)
        board.reset()
        board.write([(Region.NEURON_STATE, NeuronState.V, np.array([1234]))])
        for _ in range(254):
            board.read([(Region.CONTROL, Control.WEIGHT_SHIFT, 1)])
        board.reset()
        assert _v0(board) == -100


def test_resets_and_clears_through_many_wraps_under_faults():
    """Every distance (in requests) between two run-state commands around one and two
    wraps, through a line that drops, doubles and flips 1% of the bytes each way: every
    reset resets, every clear clears."""
    with Board("sim", 3_000_000, spec=SPEC, faults=0.01, seed=7, timeout=0.01, retries=24) as board:
        _set_sizes_and_v_init(board, -100)
        for gap in [*range(2, 6), *range(254, 259), *range(510, 514)]:
            polls = [(Region.CONTROL, Control.WEIGHT_SHIFT, 1)] * (gap - 2)
            board.reset()  # seq s
            board.write([(Region.NEURON_STATE, NeuronState.V, np.array([1234]))])  # s + 1
            board.read(polls)  # s + 2 .. s + gap - 1
            board.reset()  # s + gap
            assert _v0(board) == -100, gap
            board.write([(Region.FF_WEIGHT, 0, np.array([55]))])  # s + gap + 2
            board.read(polls[1:])
            board.clear()  # s + 2 gap
            assert board.read([(Region.FF_WEIGHT, 0, 1)])[0][0] == 0, gap
            _set_sizes_and_v_init(board, -100)
        frames = board.link.stats.frames_sent
        faults = board._server.device.counts
    assert frames > 4 * SEQ_MODULO  # the sequence numbers wrapped several times
    assert faults.dropped and faults.duplicated and faults.flipped


# -- the property test ----------------------------------------------------------------------
# a frame dropped, doubled, with one bit flipped, cut short; an answer held back until
# after the host's time-out (each direction may get any, "late" acts on answers only)
FAULTS = ("drop", "dup", "flip", "cut", "late")


def _apply(fault: tuple | None, data: bytes) -> bytes:
    if fault is None or not data:
        return data
    kind = fault[0]
    if kind == "drop":
        return b""
    if kind == "dup":
        return data + data
    if kind == "flip":
        at = fault[1] % len(data)
        return data[:at] + bytes([data[at] ^ (1 << fault[2])]) + data[at + 1 :]
    if kind == "cut":
        return data[: fault[1] % len(data)]
    return data  # "late" (of an answer) is the line's business


class LoggingDevice(DeviceModel):
    """The device model, logging each run-state command it executes as ``(tag, opcode)``."""

    def __init__(self, spec: CoreSpec) -> None:
        super().__init__(spec, credits=4)
        self.tag: object = None
        self.log: list[tuple[object, Opcode]] = []
        for op in EXECUTE_ONCE:
            self._handlers[op] = self._logged(op, self._handlers[op])

    def _logged(self, op: Opcode, handler):
        def run(*fields_and_tail) -> bytes:
            data = handler(*fields_and_tail)  # raises when refused: nothing executed
            self.log.append((self.tag, op))
            return data

        return run


@dataclass
class Line:
    """The device at the end of an in-process serial port (the pyserial calls Link makes).

    Each write (one frame) reaches the device at once, and the device's answer comes back.
    The ``k``-th write since ``plan`` was set gets the faults ``plan[k]`` (to the device,
    to the host); later writes get one of each direction with probability ``rate``."""

    device: LoggingDevice
    plan: list
    rng: random.Random
    rate: float
    writes: int = 0
    late: bytes = b""
    deaf: bool = False  # every answer is lost (the host gives up on what the device did)
    rx: bytearray = field(default_factory=bytearray)
    cond: threading.Condition = field(default_factory=threading.Condition)
    cancelled: bool = False

    def _fault(self) -> tuple:
        if self.writes < len(self.plan):
            return self.plan[self.writes]
        pick = [None, None]
        for i in range(2):
            if self.rng.random() < self.rate:
                pick[i] = (self.rng.choice(FAULTS), self.rng.randrange(64), self.rng.randrange(8))
        return tuple(pick)

    def write(self, data: bytes) -> int:
        to_device, to_host = self._fault()
        self.writes += 1
        reply = self.device.exchange(_apply(to_device, data))
        held, self.late = self.late, b""  # what the device sent before: on the line first
        if self.deaf:
            held = reply = b""
        elif to_host is not None and to_host[0] == "late":
            self.late, reply = reply, b""
        else:
            reply = _apply(to_host, reply)
        with self.cond:
            self.rx += held + reply
            self.cond.notify_all()
        return len(data)

    @property
    def in_waiting(self) -> int:
        return len(self.rx)

    def read(self, size: int = 1) -> bytes:
        with self.cond:
            if not self.rx and not self.cancelled:
                self.cond.wait(0.01)
            data, self.rx[:] = bytes(self.rx[:size]), self.rx[size:]
            return data

    def reset_input_buffer(self) -> None:
        with self.cond:
            self.rx.clear()

    def cancel_read(self) -> None:
        with self.cond:
            self.cancelled = True
            self.cond.notify_all()

    def close(self) -> None:
        self.cancel_read()


faults = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(FAULTS), st.integers(0, 300), st.integers(0, 7)),
)
WEIGHTS = 16  # FF weights the test writes and reads
# run-state commands are drawn most often; each may be "aimed": STATUS requests first,
# as many as bring the host's next seq to the one the device holds as its last
# run-state command's (without the fix, the command would be taken for a repeat)
ONCE = ("reset", "step", "clear", "run_halt")
OPS = (*ONCE, *ONCE, "status", "identify", "reconnect", "write", "read", "polls")
operations = st.sampled_from(OPS).flatmap(
    lambda name: st.tuples(
        st.just(name),
        *{
            "step": [st.booleans(), st.integers(1, 4)],
            "write": [st.integers(0, WEIGHTS - 1), st.integers(-128, 127)],
            "read": [st.integers(0, WEIGHTS - 1)],
            "polls": [st.integers(1, 300)],  # pipelined STATUS requests
        }.get(name, [st.booleans()] if name in ONCE else []),
    )
)


def _link(line: Line) -> Link:
    return Link(line, "line", 3_000_000, timeout=0.002, retries=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # each operation with the faults of its first frames, and whether the line is deaf
    ops=st.lists(
        st.tuples(
            operations,
            st.lists(st.tuples(faults, faults), max_size=4),
            st.sampled_from([False] * 5 + [True]),
        ),
        min_size=1,
        max_size=20,
    ),
    seed=st.integers(0, 2**16),
    rate=st.sampled_from([0.0, 0.02, 0.1]),
)
# the two ways to alias, always tried: a run-state command aimed at the seq of the one
# before; and at the seq of one the host gave up on (all answers lost) but the device did
@example(ops=[(("reset", False), [], False), (("reset", True), [], False)], seed=0, rate=0.0)
@example(
    ops=[(("reset", False), [], False), (("clear", False), [], True), (("reset", True), [], False)],
    seed=0,
    rate=0.0,
)
def test_every_acknowledged_run_state_command_was_executed_exactly_once(ops, seed, rate):
    device = LoggingDevice(SPEC)
    line = Line(device, [], random.Random(seed), rate)
    link = _link(line)
    issued: list[tuple[object, Opcode, bool]] = []  # (tag, opcode, acknowledged)
    weights: dict[int, set[int]] = {i: {0} for i in range(WEIGHTS)}  # values a read may return

    def once(tag, opcode: Opcode, payload: bytes = b"") -> bytes | None:
        device.tag = tag
        try:
            reply = link.request(opcode, payload)
        except BoardError:
            issued.append((tag, opcode, False))
            return None
        issued.append((tag, opcode, True))
        return reply.data

    try:
        for k, ((name, *args), plan, deaf) in enumerate(ops):
            device.tag = (k, name)
            line.plan, line.writes, line.deaf = plan, 0, deaf
            if name in ONCE and args[0] and device._last_once is not None:  # aimed
                polls = (device._last_once - link._seq - 1) % SEQ_MODULO
                try:
                    link.exchange([Request(Opcode.STATUS)] * polls)
                except BoardError:
                    pass
            try:
                if name == "reset":
                    once((k, 0), Opcode.RESET_STATE)
                elif name == "clear":
                    once((k, 0), Opcode.CLEAR_CONFIG)
                    if ((k, 0), Opcode.CLEAR_CONFIG) in device.log:  # executed (acknowledged or not)
                        weights = {i: {0} for i in range(WEIGHTS)}
                elif name == "run_halt":
                    once((k, 0), Opcode.RUN)
                    once((k, 1), Opcode.HALT)
                elif name == "step":
                    data = once((k, 0), Opcode.STEP, STEP.pack(args[1]))
                    if data is not None:  # OK or DUPLICATE: the timestep after this STEP
                        assert STEP_REPLY.unpack(data)[0] == device.core.timestep
                elif name == "status":
                    link.request(Opcode.STATUS)
                elif name == "identify":
                    link.request(Opcode.IDENTIFY)
                elif name == "reconnect":
                    link.close()
                    line.cancelled = False
                    link = _link(line)
                elif name == "write":
                    index, value = args
                    payload = ADDRESS.pack(Region.FF_WEIGHT, index, 1)
                    payload += encode_words(SPEC, Region.FF_WEIGHT, index, [value])
                    weights[index].add(value)  # old or new until it is acknowledged
                    link.request(Opcode.WRITE, payload)
                    weights[index] = {value}
                elif name == "read":
                    (index,) = args
                    address = ADDRESS.pack(Region.FF_WEIGHT, index, 1)
                    data = link.request(Opcode.READ, address).data
                    assert data[: ADDRESS.size] == address
                    (value,) = decode_words(SPEC, Region.FF_WEIGHT, index, 1, data[ADDRESS.size :])
                    assert value in weights[index]
                    weights[index] = {int(value)}
                elif name == "polls":
                    link.exchange([Request(Opcode.STATUS)] * args[0])
            except BoardError:
                pass
    finally:
        link.close()

    executed: dict[object, list[Opcode]] = {}
    for tag, op in device.log:
        executed.setdefault(tag, []).append(op)
    for tag, op, acked in issued:
        done = executed.pop(tag, [])
        if acked:
            assert done == [op], f"{op.name} {tag} acknowledged, executed {len(done)} times"
        else:  # the driver said it failed: it may have been executed, once at most
            assert done in ([], [op]), f"{op.name} {tag} failed, executed {len(done)} times"
    assert not executed, f"executed without being issued: {executed}"


def test_a_run_state_command_waits_for_the_frames_in_flight():
    """A run-state command in a pipelined batch goes alone: nothing in flight with it."""
    device = LoggingDevice(SPEC)
    line = Line(device, [], random.Random(0), 0.0)
    link = _link(line)
    in_flight = []
    send = link._send

    def spy(slot):
        in_flight.append(slot.request.opcode)
        send(slot)

    link._send = spy
    try:
        link.exchange(
            [Request(Opcode.STATUS)] * 3 + [Request(Opcode.RESET_STATE)] + [Request(Opcode.STATUS)] * 3
        )
    finally:
        link.close()
    # the link starts without knowing the device's last seq: an IDENTIFY comes first
    assert in_flight == [Opcode.STATUS] * 3 + [Opcode.IDENTIFY, Opcode.RESET_STATE] + [Opcode.STATUS] * 3
    assert [op for _, op in device.log] == [Opcode.RESET_STATE]


@pytest.mark.parametrize("last", [0, 1, 255])
def test_the_seq_of_the_last_run_state_command_is_skipped(last):
    """Whatever requests come between, a run-state command never gets the seq the device holds."""
    device = LoggingDevice(SPEC)
    link = _link(Line(device, [], random.Random(0), 0.0))
    try:
        link.request(Opcode.IDENTIFY)
        for _ in range(3):
            link._seq = (last - 1) % SEQ_MODULO  # the next seq would be `last`
            link.request(Opcode.RESET_STATE)
            link._seq = (last - 1) % SEQ_MODULO
            link.request(Opcode.STEP, STEP.pack(1))
    finally:
        link.close()
    assert [op for _, op in device.log] == [Opcode.RESET_STATE, Opcode.STEP] * 3
    assert device.core.timestep == 1
