"""The simulated board: a :class:`~firmware_host.core_model.CoreModel` behind the protocol,
byte for byte.

:class:`DeviceModel` is a *byte device*: ``exchange(received) -> to_send``. That is the
seam that a bridge to the RTL simulation implements too (clock the UART receiver with
the bytes, collect what the transmitter sends), and what
:class:`firmware_host.transports.PtyServer` serves on a pseudo-terminal.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from snn.core_spec import CoreSpec

from .core_model import CoreModel
from .framing import BadFrame, Frame, StreamDecoder
from .memory_map import Control, Region
from .protocol import (
    INDEX,
    PROTOCOL_VERSION,
    REPLY,
    REPLY_HEAD,
    REQUESTS,
    STEP_REPLY,
    DeviceStatus,
    Identity,
    Opcode,
    SpikeFlag,
    SpikeRecord,
    Status,
    Tail,
    decode_words,
    encode_words,
    in_range,
    word_format,
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
        # one handler per row of the command table: ``_<name>(*fields, tail)``
        self._handlers = {op: getattr(self, f"_{op.name.lower()}") for op in REQUESTS}

    @classmethod
    def advertising(cls, spec: CoreSpec, identity: Identity) -> DeviceModel:
        """A model of ``spec`` that advertises ``identity``'s clock, baud and buffer sizes
        (those of an RTL core), so that the two answer every request byte for byte alike."""
        return cls(
            spec,
            credits=identity.credits,
            max_payload=identity.max_payload,
            input_depth=identity.input_depth,
            spike_log=identity.spike_log,
            clock_hz=identity.clock_hz,
            baud=identity.baud,
        )

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
        """The checks of the command table (:class:`firmware_host.protocol.Command`), in
        its order, then the opcode's handler; every reply's data as the table lays it out."""
        op, payload = frame.opcode, frame.payload
        if frame.version != PROTOCOL_VERSION and op != Opcode.IDENTIFY:
            return self._reply(frame.seq, op, Status.BAD_VERSION)
        handler = self._handlers.get(op)
        if handler is None:
            return self._reply(frame.seq, op, Status.UNKNOWN_OPCODE)
        op = Opcode(op)
        command = op.command
        if len(payload) > self.identity.max_payload:
            return self._reply(frame.seq, op, Status.BAD_LENGTH)
        if command.once and frame.seq == self._last_once:
            data = self._now(op) if command.reply.size else b""
            return self._reply(frame.seq, op, Status.DUPLICATE, data)
        try:
            fields, tail = self._check(command, payload)
            data = handler(*fields, tail)
        except Refused as exc:
            return self._reply(frame.seq, op, exc.status)
        self._check_reply(op, data)
        if command.once:
            self._last_once = frame.seq
        self._reply(frame.seq, op, Status.OK, data)

    def _check(self, command, payload: bytes) -> tuple[tuple, bytes]:
        """The table's checks of a request: its fields and tail, or :class:`Refused`."""
        args = command.args
        if len(payload) < args.size:
            raise Refused(Status.BAD_LENGTH)
        fields, tail = args.unpack_from(payload), payload[args.size :]
        if command.address:
            if not in_range(self.core.spec, *fields):
                raise Refused(Status.ADDRESS_OUT_OF_RANGE)
            fields = (Region(fields[0]), *fields[1:])
        if command.args_tail is Tail.NONE and tail:
            raise Refused(Status.BAD_LENGTH)
        if command.halted and self.running:
            raise Refused(Status.BUSY)
        if command.args_tail is Tail.WORDS:
            want = word_format(self.core.spec, *fields).total
        elif command.args_tail is Tail.INDICES:
            want = INDEX.itemsize * fields[-1]
        else:
            want = 0
        if len(tail) != want:
            raise Refused(Status.BAD_LENGTH)
        return fields, tail

    def _check_reply(self, op: Opcode, data: bytes) -> None:
        """A handler's reply data has the table's layout (a bug here, not a refusal)."""
        command = op.command
        fixed = command.reply.size
        if len(data) < fixed or (command.reply_tail is Tail.NONE and len(data) != fixed):
            raise AssertionError(f"{op.name} handler answered {len(data)} bytes; the table says {fixed}")

    def _reply(self, seq: int, opcode: int, status: Status, data: bytes = b"") -> None:
        head = REPLY_HEAD.pack(status, self.identity.credits)
        self._out += Frame(seq, (opcode | REPLY) & 0xFF, head + data).encode()

    # -- handlers: the request's fields and tail -> reply data, or raise Refused ----------
    # (the table's checks are done: lengths, address range, BUSY during a free run)
    def _identify(self, tail: bytes) -> bytes:
        self._last_once = None  # a new session: its sequence numbers start afresh
        return self.identity.pack()

    def _status(self, tail: bytes) -> bytes:
        return DeviceStatus(self.running, self.core.timestep, self._records & 0xFFFF, self._flags).pack()

    def _write(self, region: int, index: int, count: int, tail: bytes) -> bytes:
        region = Region(region)
        try:
            words = decode_words(self.core.spec, region, index, count, tail)
        except ValueError:  # not sign-extended (the length is checked)
            raise Refused(Status.BAD_VALUE) from None
        if region is Region.CONTROL:
            self._check_control(index, words)
        self.core.mem[region][index : index + count] = words
        return b""

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

    def _read(self, region: int, index: int, count: int, tail: bytes) -> bytes:
        region = Region(region)
        words = self.core.mem[region][index : index + count]
        data = Opcode.READ.command.reply.pack(region, index, count) + encode_words(
            self.core.spec, region, index, words
        )
        if REPLY_HEAD.size + len(data) > self.identity.max_payload:
            raise Refused(Status.BAD_LENGTH)
        return data

    def _halt(self, tail: bytes) -> bytes:
        self.running = False
        return b""

    def _run(self, tail: bytes) -> bytes:
        self.running = True
        return b""

    def _step(self, n: int, tail: bytes) -> bytes:
        for _ in range(n):
            self._one_step()
        return self._now(Opcode.STEP)

    def _now(self, op: Opcode) -> bytes:
        """The reply fields of a run-state command as they are now (also for DUPLICATE)."""
        assert op is Opcode.STEP, op  # the only run-state command with reply fields
        return STEP_REPLY.pack(self.core.timestep & 0xFFFFFFFF, self._records & 0xFFFF)

    def _reset_state(self, tail: bytes) -> bytes:
        self.core.reset_state()
        self._records = 0
        self._log.clear()
        self._inputs.clear()
        self._flags = self._pending_flags = SpikeFlag(0)
        return b""

    def _clear_config(self, tail: bytes) -> bytes:
        self.core.clear_config()
        return b""

    def _spikes_in(self, timestep: int, count: int, tail: bytes) -> bytes:
        sources = np.frombuffer(tail, INDEX)
        if sources.size and sources.max() >= self.core.spec.max_inputs:
            raise Refused(Status.ADDRESS_OUT_OF_RANGE)
        now = self.core.timestep
        if timestep < now:
            self._flags |= SpikeFlag.INPUT_LATE
            self._pending_flags |= SpikeFlag.INPUT_LATE
            raise Refused(Status.INPUT_LATE)
        if timestep >= now + self.identity.input_depth:
            raise Refused(Status.BUSY)
        self._inputs[timestep] = np.unique(sources).astype(np.int64)  # set, not add: a repeat changes nothing
        return b""

    def _spikes_resend(self, counter: int, tail: bytes) -> bytes:
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
