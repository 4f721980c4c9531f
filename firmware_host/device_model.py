"""The simulated board: a :class:`~firmware_host.core_model.CoreModel` behind the protocol,
byte for byte.

:class:`DeviceModel` is a *byte device*: ``exchange(received) -> to_send``. That is the
seam that a bridge to the RTL simulation implements too (clock the UART receiver with
the bytes, collect what the transmitter sends), and what
:class:`firmware_host.transports.PtyServer` serves on a pseudo-terminal.
"""

from __future__ import annotations

import struct
from collections import OrderedDict

import numpy as np

from snn.core_spec import CoreSpec

from .core_model import CoreModel
from .framing import BadFrame, Frame, StreamDecoder
from .memory_map import Control, Region
from .protocol import (
    ADDRESS,
    EXECUTE_ONCE,
    PROTOCOL_VERSION,
    REPLY,
    REPLY_HEAD,
    SPIKES_RESEND,
    STEP,
    STEP_REPLY,
    DeviceStatus,
    Identity,
    Opcode,
    SpikeFlag,
    SpikeRecord,
    Status,
    decode_words,
    encode_words,
    in_range,
    unpack_spikes_in,
)


class Refused(Exception):
    """A request the device answers with a NAK of ``status``."""

    def __init__(self, status: Status) -> None:
        super().__init__(status.name)
        self.status = status


class DeviceModel:
    """The protocol engine of a core: decodes frames, executes them, answers each once.

    ``credits``, ``max_payload``, ``input_depth`` and ``spike_log`` are the buffer sizes
    it advertises in IDENTIFY (an RTL core may advertise smaller ones).
    """

    def __init__(
        self,
        spec: CoreSpec | None = None,
        *,
        credits: int = 8,
        max_payload: int = 1040,  # four 256-word weight rows and their address
        input_depth: int = 64,
        spike_log: int = 1024,
        clock_hz: int = 0,
        baud: int = 0,
    ) -> None:
        self.core = CoreModel(spec)
        self.identity = Identity(
            PROTOCOL_VERSION, self.core.spec, clock_hz, baud, credits, max_payload, input_depth, spike_log
        )
        self._decoder = StreamDecoder()
        self._last_once: int | None = None  # seq of the last EXECUTE_ONCE command
        self.running = False
        self._records = 0  # spike records sent since RESET_STATE
        self._log: OrderedDict[int, bytes] = OrderedDict()  # counter mod 2^16 -> record payload
        self._inputs: dict[int, np.ndarray] = {}  # timestep -> source indices
        self._flags = SpikeFlag(0)  # sticky, for STATUS
        self._pending_flags = SpikeFlag(0)  # for the next spike record
        self._out = bytearray()
        self._handlers = {
            Opcode.IDENTIFY: self._identify,
            Opcode.STATUS: self._status,
            Opcode.WRITE: self._write,
            Opcode.READ: self._read,
            Opcode.HALT: self._halt,
            Opcode.RUN: self._run,
            Opcode.STEP: self._step,
            Opcode.RESET_STATE: self._reset_state,
            Opcode.CLEAR_CONFIG: self._clear_config,
            Opcode.SPIKES_IN: self._spikes_in,
            Opcode.SPIKES_RESEND: self._spikes_resend,
        }

    # -- the byte interface ---------------------------------------------------------------
    def exchange(self, received: bytes) -> bytes:
        """Consume received bytes; return the bytes to transmit. With nothing received
        during a free run, it runs one timestep."""
        for item in self._decoder.feed(received):
            if isinstance(item, BadFrame):
                if item.seq is not None:  # nothing to address a reply to otherwise
                    self._reply(item.seq, item.opcode or 0, item.status)
            else:
                self._execute(item)
        if self.running and not received:
            self._one_step()
        out, self._out = bytes(self._out), bytearray()
        return out

    def idle(self) -> None:
        """An inter-byte time-out: drop a half-received frame."""
        self._decoder.reset()

    # -- dispatch -------------------------------------------------------------------------
    def _execute(self, frame: Frame) -> None:
        op = frame.opcode
        if frame.version != PROTOCOL_VERSION and op != Opcode.IDENTIFY:
            return self._reply(frame.seq, op, Status.BAD_VERSION)
        handler = self._handlers.get(op)
        if handler is None:
            return self._reply(frame.seq, op, Status.UNKNOWN_OPCODE)
        if len(frame.payload) > self.identity.max_payload:
            return self._reply(frame.seq, op, Status.BAD_LENGTH)
        if op in EXECUTE_ONCE and frame.seq == self._last_once:
            data = self._step_reply() if op == Opcode.STEP else b""
            return self._reply(frame.seq, op, Status.DUPLICATE, data)
        try:
            data = handler(frame.payload)
        except Refused as exc:
            return self._reply(frame.seq, op, exc.status)
        except (struct.error, ValueError):  # payload shorter or longer than its layout
            return self._reply(frame.seq, op, Status.BAD_LENGTH)
        if op in EXECUTE_ONCE:
            self._last_once = frame.seq
        self._reply(frame.seq, op, Status.OK, data)

    def _reply(self, seq: int, opcode: int, status: Status, data: bytes = b"") -> None:
        head = REPLY_HEAD.pack(status, self.identity.credits)
        self._out += Frame(seq, (opcode | REPLY) & 0xFF, head + data).encode()

    # -- handlers: payload -> reply data, or raise Refused --------------------------------
    def _identify(self, payload: bytes) -> bytes:
        _empty(payload)
        self._last_once = None  # a new session: its sequence numbers start afresh
        return self.identity.pack()

    def _status(self, payload: bytes) -> bytes:
        _empty(payload)
        return DeviceStatus(self.running, self.core.timestep, self._records & 0xFFFF, self._flags).pack()

    def _address(self, payload: bytes) -> tuple[Region, int, int]:
        region, index, count = ADDRESS.unpack_from(payload)
        if not in_range(self.core.spec, region, index, count):
            raise Refused(Status.ADDRESS_OUT_OF_RANGE)
        return Region(region), index, count

    def _write(self, payload: bytes) -> bytes:
        region, index, count = self._address(payload)
        if self.running:
            raise Refused(Status.BUSY)
        words = self._words(region, index, count, payload[ADDRESS.size :])
        if region is Region.CONTROL:
            self._check_control(index, words)
        self.core.mem[region][index : index + count] = words
        return b""

    def _words(self, region: Region, index: int, count: int, data: bytes) -> np.ndarray:
        try:
            return decode_words(self.core.spec, region, index, count, data)
        except ValueError as exc:
            bad_length = "bytes" in str(exc)
            raise Refused(Status.BAD_LENGTH if bad_length else Status.BAD_VALUE) from None

    def _check_control(self, index: int, words: np.ndarray) -> None:
        spec = self.core.spec
        limits = {
            Control.WEIGHT_SHIFT: spec.max_weight_shift,
            Control.N_INPUTS: spec.max_inputs,
            Control.N_NEURONS: spec.max_neurons,
        }
        for reg, value in zip(range(index, index + words.size), words):
            if reg == Control.STEP_COUNT:
                raise Refused(Status.READ_ONLY)
            if value > limits[Control(reg)]:
                raise Refused(Status.BAD_VALUE)

    def _read(self, payload: bytes) -> bytes:
        region, index, count = self._address(payload)
        if len(payload) != ADDRESS.size:
            raise Refused(Status.BAD_LENGTH)
        words = self.core.mem[region][index : index + count]
        data = encode_words(self.core.spec, region, index, words)
        if ADDRESS.size + len(data) + REPLY_HEAD.size > self.identity.max_payload:
            raise Refused(Status.BAD_LENGTH)
        return payload + data

    def _halt(self, payload: bytes) -> bytes:
        _empty(payload)
        self.running = False
        return b""

    def _run(self, payload: bytes) -> bytes:
        _empty(payload)
        self.running = True
        return b""

    def _step(self, payload: bytes) -> bytes:
        (n,) = STEP.unpack(payload)
        if self.running:
            raise Refused(Status.BUSY)
        for _ in range(n):
            self._one_step()
        return self._step_reply()

    def _step_reply(self) -> bytes:
        return STEP_REPLY.pack(self.core.timestep & 0xFFFFFFFF, self._records & 0xFFFF)

    def _reset_state(self, payload: bytes) -> bytes:
        _empty(payload)
        if self.running:
            raise Refused(Status.BUSY)
        self.core.reset_state()
        self._records = 0
        self._log.clear()
        self._inputs.clear()
        self._flags = self._pending_flags = SpikeFlag(0)
        return b""

    def _clear_config(self, payload: bytes) -> bytes:
        _empty(payload)
        if self.running:
            raise Refused(Status.BUSY)
        self.core.clear_config()
        return b""

    def _spikes_in(self, payload: bytes) -> bytes:
        timestep, sources = unpack_spikes_in(payload)
        if sources.size and sources.max() >= self.core.spec.max_inputs:
            raise Refused(Status.ADDRESS_OUT_OF_RANGE)
        now = self.core.timestep
        if timestep < now:
            self._flags |= SpikeFlag.INPUT_LATE
            self._pending_flags |= SpikeFlag.INPUT_LATE
            raise Refused(Status.INPUT_LATE)
        if timestep >= now + self.identity.input_depth:
            raise Refused(Status.BUSY)
        self._inputs[timestep] = np.unique(sources)  # set, not add: a repeat changes nothing
        return b""

    def _spikes_resend(self, payload: bytes) -> bytes:
        (counter,) = SPIKES_RESEND.unpack(payload)
        record = self._log.get(counter)
        if record is None:
            raise Refused(Status.SPIKES_GONE)
        return record

    # -- running --------------------------------------------------------------------------
    def _one_step(self) -> None:
        t = self.core.timestep
        spikes = self.core.step(self._inputs.pop(t, np.zeros(0, np.int64)))
        if spikes.size or self._pending_flags:
            record = SpikeRecord(self._records & 0xFFFF, t, self._pending_flags, spikes).pack()
            self._log[self._records & 0xFFFF] = record
            if len(self._log) > self.identity.spike_log:
                self._log.popitem(last=False)
            self._out += Frame(self._records & 0xFF, Opcode.SPIKES_OUT, record).encode()
            self._records += 1
            self._pending_flags = SpikeFlag(0)


def _empty(payload: bytes) -> None:
    if payload:
        raise Refused(Status.BAD_LENGTH)
