"""Reliable request/reply exchange with a device over a serial port.

:class:`Link` keeps up to ``window`` requests in flight (never more than the device's
credits), matches replies by sequence number, and sends a request again when it is
NAKed as corrupted or busy, when a later request was answered first (the device answers
in order, so an earlier one was lost), or when its time-out passes, with exponential
back-off and a bounded number of tries. A background thread reads the port all the time,
so output spikes (``SPIKES_OUT`` frames) are collected while Python is busy elsewhere.

Requests in flight together may be executed in any order and more than once: pipeline
only idempotent requests to disjoint addresses. ``EXECUTE_ONCE`` commands go alone (the
link waits for the frames in flight, and sends nothing else until the command is
answered), and never with the sequence number that the device may hold as its last
run-state command's: the device answers that number with DUPLICATE without executing
(docs/protocol.md, "Sequence numbers").
"""

from __future__ import annotations

import queue
import struct
import threading
import time
from dataclasses import dataclass, field

import serial

from .errors import BadReply, DeviceRefused, NoAnswer
from .framing import BadFrame, Frame, StreamDecoder
from .protocol import (
    EXECUTE_ONCE,
    REPLY,
    REPLY_HEAD,
    RETRYABLE,
    SEQ_MODULO,
    Opcode,
    SpikeRecord,
    Status,
    reply_frame_bytes,
)

MAX_BACKOFF_DOUBLINGS = 5  # time-outs grow to 32 x the base, then stay


@dataclass(frozen=True)
class Request:
    """One request: opcode, payload, and what its time-out must allow for."""

    opcode: Opcode
    payload: bytes = b""
    reply_bytes: int | None = None  # size of the expected reply on the wire (None: the table's)
    device_s: float = 0.0  # time the device needs to carry it out

    def __post_init__(self) -> None:
        if self.reply_bytes is None and isinstance(self.opcode, Opcode) and self.opcode.command:
            object.__setattr__(self, "reply_bytes", reply_frame_bytes(self.opcode))
        elif self.reply_bytes is None:
            object.__setattr__(self, "reply_bytes", 16)


@dataclass(frozen=True)
class Reply:
    """A successful reply: status (OK or DUPLICATE), credits and data."""

    status: Status
    credits: int
    data: bytes


@dataclass
class LinkStats:
    """Counters of the link (both directions)."""

    frames_sent: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    resent: int = 0
    timeouts: int = 0
    naks: int = 0
    bad_frames: int = 0  # frames that arrived corrupted
    stale_replies: int = 0  # replies to requests already answered


@dataclass
class _Slot:
    index: int
    request: Request
    seq: int
    tries: int = 0
    timeouts: int = 0  # consecutive time-outs: the exponent of the back-off
    order: int = 0  # send order of the latest transmission
    first_order: int = 0  # send order of the first one
    deadline: float = 0.0
    busy: bool = False  # waiting out a BUSY before sending again
    once: bool = False  # an EXECUTE_ONCE command


@dataclass
class Link:
    """Request/reply exchange over an open pyserial port (see the module docstring)."""

    port: serial.SerialBase
    name: str
    baud: int
    timeout: float = 0.1  # base time-out for a reply beyond the line time
    retries: int = 8
    window: int = 16
    stats: LinkStats = field(default_factory=LinkStats)

    def __post_init__(self) -> None:
        self.credits = 1  # until the device says more
        self._bit_time = 10.0 / self.baud  # 8N1
        self._line_free = 0.0  # when the bytes written so far have left the host
        self._seq = 0
        # The seq the device holds as its last run-state command's (None: it holds none),
        # valid while _once_known. Unknown until an IDENTIFY is answered, and again after
        # an exchange that sent a run-state command or an IDENTIFY failed (the device may
        # or may not have executed it): the next run-state command is then preceded by an
        # IDENTIFY, which makes the device forget its seq.
        self._last_once: int | None = None
        self._once_known = False
        self._order = 0
        self._decoder = StreamDecoder()
        self._replies: queue.Queue[Frame | None] = queue.Queue()
        self._records: dict[int, SpikeRecord] = {}
        self._records_lock = threading.Lock()
        self._closed = threading.Event()
        self._reader_error: BaseException | None = None
        self._reader = threading.Thread(target=self._read_loop, name=f"link reader {self.name}", daemon=True)
        self._reader.start()

    # -- public ---------------------------------------------------------------------------
    def exchange(self, requests: list[Request], window: int | None = None) -> list[Reply]:
        """Send ``requests`` (pipelined) and return their replies, in order.

        Raises :class:`NoAnswer` when a request stays unanswered after ``retries`` tries,
        :class:`DeviceRefused` on a NAK that retrying cannot fix, :class:`BadReply` on a
        reply without a status.
        """
        limit = max(1, min(window or self.window, SEQ_MODULO // 2))
        results: list[Reply | None] = [None] * len(requests)
        pending: dict[int, _Slot] = {}
        nxt = 0
        session = False  # a run-state command or an IDENTIFY was sent
        try:
            while nxt < len(requests) or pending:
                while nxt < len(requests) and len(pending) < max(1, min(limit, self.credits)):
                    once = requests[nxt].opcode in EXECUTE_ONCE  # the table's run-state commands
                    if pending and (once or any(s.once for s in pending.values())):
                        break  # a run-state command goes alone
                    if once and not self._once_known:
                        self.exchange([Request(Opcode.IDENTIFY, reply_bytes=64)], window=1)
                    session |= once or requests[nxt].opcode == Opcode.IDENTIFY
                    slot = _Slot(nxt, requests[nxt], self._take_seq(once), once=once)
                    self._send(slot)
                    pending[slot.seq] = slot
                    nxt += 1
                wait = min(s.deadline for s in pending.values()) - time.monotonic()
                try:
                    frame = self._replies.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    frame = None
                if frame is None and self._reader_error is not None:
                    raise NoAnswer(f"lost the port {self.name}: {self._reader_error}")
                if frame is not None:
                    self._on_reply(frame, pending, results)
                now = time.monotonic()
                for slot in list(pending.values()):
                    if slot.deadline <= now:
                        if not slot.busy:
                            self.stats.timeouts += 1
                            slot.timeouts += 1
                        self._send(slot)
        except BaseException:
            if session:  # it may or may not have been executed: the device's seq is unknown
                self._once_known = False
            raise
        return results  # type: ignore[return-value]

    def request(self, opcode: Opcode, payload: bytes = b"", **timing) -> Reply:
        """One request, alone on the link (no other in flight)."""
        return self.exchange([Request(opcode, payload, **timing)], window=1)[0]

    def take_records(self) -> dict[int, SpikeRecord]:
        """The spike records received so far (keyed by their 16-bit counter), removed."""
        with self._records_lock:
            records, self._records = self._records, {}
        return records

    def sync(self) -> None:
        """End whatever half frame the device holds, and forget stale input."""
        self._write(b"\x00")
        self.port.reset_input_buffer()

    def close(self) -> None:
        """Stop the reader thread and close the port."""
        self._closed.set()
        try:
            self.port.cancel_read()
        except (AttributeError, NotImplementedError, serial.SerialException, OSError):
            pass
        self._reader.join(timeout=2)
        self.port.close()

    # -- sending --------------------------------------------------------------------------
    def _take_seq(self, once: bool) -> int:
        self._seq = (self._seq + 1) % SEQ_MODULO
        if once and self._seq == self._last_once:  # the device would take it for a repeat
            self._seq = (self._seq + 1) % SEQ_MODULO
        return self._seq

    def _send(self, slot: _Slot) -> None:
        if slot.tries > self.retries:
            raise NoAnswer(
                f"no answer from the board on {self.name} at {self.baud} baud "
                f"({slot.request.opcode.name} unanswered after {slot.tries} tries)"
            )
        data = Frame(slot.seq, slot.request.opcode, slot.request.payload).encode()
        self._write(data)
        now = time.monotonic()
        self._line_free = max(self._line_free, now) + len(data) * self._bit_time
        self.stats.frames_sent += 1
        self.stats.resent += slot.tries > 0
        self._order += 1
        slot.order = self._order
        slot.first_order = slot.first_order or self._order
        slot.busy = False
        slot.deadline = (
            self._line_free
            + slot.request.reply_bytes * self._bit_time
            + slot.request.device_s
            + self._backoff(slot)
        )
        slot.tries += 1

    def _backoff(self, slot: _Slot) -> float:
        return self.timeout * 2 ** min(slot.timeouts, MAX_BACKOFF_DOUBLINGS)

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except serial.SerialTimeoutException:
            raise NoAnswer(
                f"the port {self.name} does not take data (write time-out at {self.baud} baud)"
            ) from None
        self.stats.bytes_sent += len(data)

    def _on_reply(self, frame: Frame, pending: dict[int, _Slot], results: list) -> None:
        slot = pending.get(frame.seq)
        if slot is None or frame.opcode != (slot.request.opcode | REPLY):
            self.stats.stale_replies += 1
            return
        if len(frame.payload) < REPLY_HEAD.size:
            raise BadReply(
                f"the board on {self.name} answered {slot.request.opcode.name} with {len(frame.payload)} "
                f"payload byte(s); a reply starts with {REPLY_HEAD.size} (status, credits)"
            )
        status_byte, credits = REPLY_HEAD.unpack_from(frame.payload)
        try:
            status = Status(status_byte)
        except ValueError:
            raise BadReply(
                f"the board on {self.name} answered {slot.request.opcode.name} with status "
                f"0x{status_byte:02x}, which this protocol does not define"
            ) from None
        self.credits = max(1, credits)
        if status.ok:
            results[slot.index] = Reply(status, credits, frame.payload[REPLY_HEAD.size :])
            del pending[frame.seq]
            if slot.once:  # executed now (OK) or at an earlier copy (DUPLICATE): the device holds its seq
                self._last_once, self._once_known = slot.seq, True
            elif slot.request.opcode == Opcode.IDENTIFY:  # a new session: it holds none
                self._last_once, self._once_known = None, True
            # Answered in order: what was sent before this frame's first copy (the reply
            # may be for any copy) and is still unanswered was lost.
            for other in pending.values():
                if other.order < slot.first_order and not other.busy:
                    self._send(other)
        elif status in RETRYABLE:
            self.stats.naks += 1
            if status is Status.BUSY:  # wait before sending again
                slot.busy = True
                slot.timeouts += 1
                slot.deadline = time.monotonic() + self._backoff(slot)
            else:
                self._send(slot)
        else:
            raise DeviceRefused(
                f"the board on {self.name} refused {slot.request.opcode.name}: {status.name}", status
            )

    # -- receiving (background thread) ----------------------------------------------------
    def _read_loop(self) -> None:
        while not self._closed.is_set():
            try:
                data = self.port.read(max(1, self.port.in_waiting))
            except (serial.SerialException, OSError, TypeError) as exc:
                if not self._closed.is_set():
                    self._reader_error = exc
                    self._replies.put(None)
                return
            if data:
                self.stats.bytes_received += len(data)
                self._dispatch(self._decoder.feed(data))

    def _dispatch(self, items: list[Frame | BadFrame]) -> None:
        for item in items:
            if isinstance(item, BadFrame):
                self.stats.bad_frames += 1
            elif item.opcode == Opcode.SPIKES_OUT:
                try:
                    record = SpikeRecord.unpack(item.payload)
                except (struct.error, ValueError):
                    self.stats.bad_frames += 1
                    continue
                with self._records_lock:
                    self._records[record.counter] = record
            elif item.opcode & REPLY:
                self._replies.put(item)
            else:
                self.stats.bad_frames += 1
