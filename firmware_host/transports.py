"""Links to simulated cores: a pseudo-terminal server and a fault-injecting wrapper.

A *byte device* (:class:`ByteDevice`) turns received bytes into bytes to send; the
simulated core (:class:`~firmware_host.device_model.DeviceModel`) is one, an RTL bridge
would be another. :class:`PtyServer` serves a byte device on a pseudo-terminal, so the
driver opens ``/dev/pts/N`` with pyserial exactly as it opens ``/dev/ttyUSB0``.
:class:`FaultInjector` sits between the two and drops, duplicates, flips, truncates and
delays bytes or whole frames, at a rate per kind (:class:`FaultRates`), and counts them.
"""

from __future__ import annotations

import dataclasses
import os
import select
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from snn.core_spec import CoreSpec

from .protocol import DELIMITER


class ByteDevice(Protocol):
    """Something at the far end of a serial line."""

    def exchange(self, received: bytes) -> bytes:
        """Consume received bytes (``b""`` when the line is idle); return bytes to send."""
        ...  # pragma: no cover

    def idle(self) -> None:
        """The line has been quiet for a while (an inter-byte time-out)."""
        ...  # pragma: no cover


FAULT_KINDS = ("drop", "dup", "flip", "truncate", "delay")
_ALIASES = {"duplicate": "dup", "trunc": "truncate"}


class FaultSpecError(ValueError):
    """A fault specification (``drop=0.01,dup=0.01,...``) that cannot be read."""


@dataclass(frozen=True)
class FaultRates:
    """How often each fault happens, per byte (``per="byte"``) or per frame (``per="frame"``).

    - ``drop``: the byte (frame) is lost;
    - ``dup``: it arrives twice;
    - ``flip``: one of its bits (one bit of the frame) is inverted;
    - ``truncate``: it and the rest of its frame are lost, the ``0x00`` that ends the
      frame still arrives (a frame cut short; drawn on a ``0x00`` it does nothing);
    - ``delay``: the line stalls for ``delay_ms`` before it (later bytes wait behind it).

    Per byte, the kinds exclude each other (at most one fault per byte, their rates add
    up to at most 1); per frame likewise. ``seed`` seeds the injector's generator.
    """

    drop: float = 0.0
    dup: float = 0.0
    flip: float = 0.0
    truncate: float = 0.0
    delay: float = 0.0
    per: str = "byte"
    delay_ms: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        for kind in FAULT_KINDS:
            rate = getattr(self, kind)
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
                raise FaultSpecError(f"fault rate {kind}={rate!r} must be a number in [0, 1]")
        if self.total > 1.0:
            raise FaultSpecError(f"fault rates add up to {self.total:g}; at most 1 per {self.per}")
        if self.per not in ("byte", "frame"):
            raise FaultSpecError(f"per={self.per!r}: faults are per 'byte' or per 'frame'")
        if not (isinstance(self.delay_ms, (int, float)) and 0.0 <= self.delay_ms <= 10_000.0):
            raise FaultSpecError(f"delay_ms={self.delay_ms!r} must be a number of ms in [0, 10000]")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise FaultSpecError(f"seed={self.seed!r} must be an integer >= 0")

    @property
    def total(self) -> float:
        """Probability that a byte (frame) gets some fault."""
        return sum(getattr(self, kind) for kind in FAULT_KINDS)

    def __bool__(self) -> bool:
        return self.total > 0.0

    @classmethod
    def uniform(cls, rate: float, seed: int = 0) -> FaultRates:
        """``rate`` per byte, split evenly between drop, dup and flip (the classic noisy line)."""
        return cls(drop=rate / 3, dup=rate / 3, flip=rate / 3, seed=seed)

    @classmethod
    def parse(cls, text: str) -> FaultRates:
        """Read ``"drop=0.01,dup=0.01,flip=0.01"`` (also ``truncate``, ``delay``,
        ``per=byte|frame``, ``delay_ms``, ``seed``; rates may be percentages, ``1%``;
        ``"none"`` is no faults); raise :class:`FaultSpecError`."""
        known = (*FAULT_KINDS, "per", "delay_ms", "seed")
        args: dict[str, object] = {}
        if text.strip().lower() in ("none", "off", "0"):
            return cls()
        for item in text.split(","):
            item = item.strip()
            if not item:
                continue
            key, eq, value = (part.strip() for part in item.partition("="))
            key = _ALIASES.get(key, key)
            if not eq or key not in known:
                raise FaultSpecError(
                    f"bad fault {item!r}: write KIND=RATE separated by commas, KIND one of "
                    f"{', '.join(known)} (e.g. drop=0.01,dup=0.01,flip=0.01)"
                )
            if key in args:
                raise FaultSpecError(f"fault {key!r} given twice")
            if key == "per":
                args[key] = value
                continue
            try:
                args[key] = (
                    int(value)
                    if key == "seed"
                    else float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
                )
            except ValueError:
                raise FaultSpecError(f"bad fault {item!r}: {value!r} is not a number") from None
        return cls(**args)

    def describe(self) -> str:
        """``drop=0.01,dup=0.01,flip=0.01 per byte`` (the kinds that are on)."""
        on = ",".join(f"{kind}={getattr(self, kind):g}" for kind in FAULT_KINDS if getattr(self, kind))
        return f"{on or 'none'} per {self.per}" + (f", delay {self.delay_ms:g} ms" if self.delay else "")


def fault_rates(faults: FaultRates | float | str | None, seed: int = 0) -> FaultRates:
    """A :class:`FaultRates` from one, a total per-byte rate (split evenly over drop, dup and
    flip) or the text form; ``None`` is no faults."""
    if isinstance(faults, FaultRates):
        return faults
    if faults is None:
        return FaultRates(seed=seed)
    if isinstance(faults, str):
        rates = FaultRates.parse(faults)
        return rates if "seed" in faults else dataclasses.replace(rates, seed=seed)
    if isinstance(faults, bool) or not isinstance(faults, (int, float)):
        raise FaultSpecError(f"faults must be a FaultRates, a rate or text like 'drop=0.01', got {faults!r}")
    return FaultRates.uniform(float(faults), seed)


def link_options(rates: FaultRates) -> dict:
    """:class:`~firmware_host.board.Board` options for a line with these faults: more tries,
    and with per-byte faults frames of about ``1/rate`` bytes (payload times the chance
    that a frame passes is near its best there)."""
    options: dict = {"retries": 64}
    if rates.per == "byte" and rates.total > 0:
        options["max_payload"] = int(min(max(1.0 / rates.total - 16, 8), 1024))
    return options


@dataclass
class FaultCounts:
    """What the injector did so far (both directions): bytes and frames seen, and faults by kind."""

    bytes: int = 0
    frames: int = 0
    dropped: int = 0
    duplicated: int = 0
    flipped: int = 0
    truncated: int = 0
    delayed: int = 0


class _Direction:
    """One direction of the line: the faults of its bytes, and the stalls delays leave."""

    def __init__(self, injector: FaultInjector) -> None:
        self.inj = injector
        rates = injector.rates
        self.limits = np.cumsum([getattr(rates, kind) for kind in FAULT_KINDS])
        self.queue: deque[tuple[float, bytes]] = deque()  # (release time, bytes), in order
        self.free_at = 0.0  # the line moves nothing before this (a delay's stall)
        self.frame = bytearray()  # per frame: the bytes of a frame not yet complete
        self.cutting = False  # per byte: a truncate drops the rest of its frame

    def push(self, data: bytes) -> None:
        """Corrupt ``data`` and queue what is left of it."""
        if not data:
            return
        self.inj.counts.bytes += len(data)
        if self.inj.rates.per == "byte":
            return self._bytes(data)
        self.frame += data
        while (end := self.frame.find(DELIMITER)) >= 0:
            frame, self.frame = bytes(self.frame[: end + 1]), self.frame[end + 1 :]
            self.inj.counts.frames += 1
            self._frame(frame)

    def pop(self) -> bytes:
        """The bytes whose time has come, in order."""
        now = time.monotonic()
        out = bytearray()
        while self.queue and self.queue[0][0] <= now:
            out += self.queue.popleft()[1]
        return bytes(out)

    def _emit(self, data: bytes) -> None:
        if data:
            self.queue.append((max(self.free_at, time.monotonic()), data))

    def _stall(self) -> None:
        self.free_at = max(self.free_at, time.monotonic()) + self.inj.rates.delay_ms / 1000.0
        self.inj.counts.delayed += 1

    def _kinds(self, n: int) -> np.ndarray:
        """A fault kind (index into FAULT_KINDS, or len(FAULT_KINDS) for none) per byte/frame."""
        return np.searchsorted(self.limits, self.inj._rng.random(n), side="right")

    def _bytes(self, data: bytes) -> None:
        counts, rng = self.inj.counts, self.inj._rng
        kinds = self._kinds(len(data))
        faults = np.flatnonzero(kinds < len(FAULT_KINDS)).tolist()
        bits = rng.integers(0, 8, len(faults)).tolist()
        out, pos = bytearray(), 0
        if self.cutting:  # the rest of a truncated frame: up to its delimiter, which arrives
            pos = data.find(DELIMITER)
            if pos < 0:
                return
            self.cutting = False
        for i, bit in zip(faults, bits):
            if i < pos:
                continue  # inside a truncated frame
            out += data[pos:i]
            pos, byte, kind = i + 1, data[i], FAULT_KINDS[kinds[i]]
            if kind == "drop":
                counts.dropped += 1
            elif kind == "dup":
                counts.duplicated += 1
                out += bytes((byte, byte))
            elif kind == "flip":
                counts.flipped += 1
                out.append(byte ^ (1 << bit))
            elif kind == "truncate":
                if byte == DELIMITER[0]:
                    pos = i  # nothing left of the frame to cut: the delimiter passes
                    continue
                counts.truncated += 1
                pos = data.find(DELIMITER, i + 1)
                if pos < 0:
                    self.cutting, pos = True, len(data)
                    break
            else:  # delay: the line stalls before this byte
                self._emit(bytes(out))
                out, pos = bytearray(), i
                self._stall()
        out += data[pos:]
        self._emit(bytes(out))

    def _frame(self, frame: bytes) -> None:
        counts, rng = self.inj.counts, self.inj._rng
        kind = int(self._kinds(1)[0])
        kind = FAULT_KINDS[kind] if kind < len(FAULT_KINDS) else None
        if kind == "drop":
            counts.dropped += 1
        elif kind == "dup":
            counts.duplicated += 1
            self._emit(frame + frame)
        elif kind == "flip":
            counts.flipped += 1
            bit = int(rng.integers(len(frame) * 8))
            flipped = bytearray(frame)
            flipped[bit // 8] ^= 1 << (bit % 8)
            self._emit(bytes(flipped))
        elif kind == "truncate" and len(frame) > 1:  # a cut keeps 0 .. len - 2 bytes of the body
            counts.truncated += 1
            self._emit(frame[: int(rng.integers(len(frame) - 1))] + DELIMITER)
        else:
            if kind == "delay":
                self._stall()
            self._emit(frame)


@dataclass
class FaultInjector:
    """A byte device that corrupts the line in both directions at ``faults``
    (:class:`FaultRates`, a total per-byte rate split evenly over drop, dup and flip, or
    text such as ``"drop=0.01,dup=0.01,flip=0.01"``). ``counts`` says what it did."""

    device: ByteDevice
    faults: FaultRates | float | str = 0.01
    seed: int = 0
    counts: FaultCounts = field(default_factory=FaultCounts)

    def __post_init__(self) -> None:
        self.rates = fault_rates(self.faults, self.seed)
        self._rng = np.random.default_rng(self.rates.seed)
        self._in, self._out = _Direction(self), _Direction(self)

    def exchange(self, received: bytes) -> bytes:
        """Corrupt what goes in and what comes out; bytes held by a delay wait their turn."""
        self._in.push(received)
        self._out.push(self.device.exchange(self._in.pop()))
        return self._out.pop()

    def idle(self) -> None:
        """Pass the time-out on."""
        self.device.idle()


class PtyServer:
    """Serves a :class:`ByteDevice` on a pseudo-terminal in a background thread.

    ``port`` is the path to open (``/dev/pts/N``). With ``baud``, the server holds every
    byte for the 10 bit times that 8N1 takes at that rate, in both directions, so that
    timings through the pty are those of a UART at ``baud``; without it bytes pass as
    fast as the pty moves them. After ``idle_s`` without a byte the device's ``idle()``
    is called (its inter-byte time-out).
    """

    def __init__(self, device: ByteDevice, *, baud: int | None = None, idle_s: float = 0.05) -> None:
        self.device = device
        self.baud = baud
        self.idle_s = idle_s
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing, no XON/XOFF: a plain byte pipe
        self.port = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"pty-server {self.port}", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> PtyServer:
        """Start serving; returns self."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close the pty."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> PtyServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _serve(self) -> None:
        bit_time = 10.0 / self.baud if self.baud else 0.0
        # paced, take about 2 ms of line time at once, so that replies leave as bytes arrive
        chunk = max(16, int(0.002 / bit_time)) if bit_time else 4096
        rx_line = tx_line = time.monotonic()  # when each direction of the line is next free
        quiet_since = time.monotonic()
        busy = False
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self._master], [], [], 0.001)
                data = os.read(self._master, chunk) if ready else b""
                now = time.monotonic()
                if data:
                    quiet_since = now
                    if bit_time:  # the device has these bytes only once they crossed the line
                        # a full chunk before: more was queued, the line never paused
                        start = rx_line if busy else max(rx_line, now)
                        rx_line = start + len(data) * bit_time
                        _sleep_until(rx_line)
                elif now - quiet_since > self.idle_s:
                    self.device.idle()
                    quiet_since = now
                busy = len(data) == chunk
                out = self.device.exchange(data)
                if out and bit_time:
                    tx_line = max(tx_line, time.monotonic()) + len(out) * bit_time
                    _sleep_until(tx_line)
                while out:
                    out = out[os.write(self._master, out) :]
        except OSError as exc:  # the pty closed under us: stop quietly unless asked to run
            if not self._stop.is_set():
                self.error = exc
        except BaseException as exc:  # noqa: BLE001  (reported to whoever owns the server)
            self.error = exc
            raise


def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def serve_simulated(
    spec: CoreSpec | None = None,
    *,
    baud: int | None = None,
    faults: FaultRates | float | str | None = None,
    seed: int = 0,
    **device_options,
) -> PtyServer:
    """Start a simulated board (:class:`~firmware_host.device_model.DeviceModel`) on a
    pty, behind a :class:`FaultInjector` when ``faults`` (see :func:`fault_rates`) are on;
    returns the running server."""
    from .device_model import DeviceModel

    rates = fault_rates(faults, seed)
    device: ByteDevice = DeviceModel(spec, baud=baud or 0, **device_options)
    if rates:
        device = FaultInjector(device, rates)
    return PtyServer(device, baud=baud).start()
