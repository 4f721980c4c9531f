"""Links to simulated cores: a pseudo-terminal server and a fault-injecting wrapper.

A *byte device* (:class:`ByteDevice`) turns received bytes into bytes to send; the
simulated core (:class:`~firmware_host.device_model.DeviceModel`) is one, an RTL bridge
would be another. :class:`PtyServer` serves a byte device on a pseudo-terminal, so the
driver opens ``/dev/pts/N`` with pyserial exactly as it opens ``/dev/ttyUSB0``.
:class:`FaultInjector` sits between the two and drops, duplicates and flips bytes.
"""

from __future__ import annotations

import os
import random
import select
import threading
import time
import tty
from dataclasses import dataclass, field
from typing import Protocol

from snn.core_spec import CoreSpec


class ByteDevice(Protocol):
    """Something at the far end of a serial line."""

    def exchange(self, received: bytes) -> bytes:
        """Consume received bytes (``b""`` when the line is idle); return bytes to send."""
        ...  # pragma: no cover

    def idle(self) -> None:
        """The line has been quiet for a while (an inter-byte time-out)."""
        ...  # pragma: no cover


@dataclass
class FaultCounts:
    """Faults injected so far, per kind."""

    dropped: int = 0
    duplicated: int = 0
    flipped: int = 0
    bytes: int = 0


@dataclass
class FaultInjector:
    """A byte device that corrupts the line in both directions: each byte is dropped,
    duplicated or has one bit flipped, each with probability ``rate / 3``."""

    device: ByteDevice
    rate: float = 0.01
    seed: int = 0
    counts: FaultCounts = field(default_factory=FaultCounts)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def exchange(self, received: bytes) -> bytes:
        """Corrupt what goes in and what comes out."""
        return self._corrupt(self.device.exchange(self._corrupt(received)))

    def idle(self) -> None:
        """Pass the time-out on."""
        self.device.idle()

    def _corrupt(self, data: bytes) -> bytes:
        out = bytearray()
        rng, third = self._rng, self.rate / 3
        for byte in data:
            r = rng.random()
            if r < third:
                self.counts.dropped += 1
            elif r < 2 * third:
                out += bytes((byte, byte))
                self.counts.duplicated += 1
            elif r < self.rate:
                out.append(byte ^ (1 << rng.randrange(8)))
                self.counts.flipped += 1
            else:
                out.append(byte)
        self.counts.bytes += len(data)
        return bytes(out)


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
    faults: float = 0.0,
    seed: int = 0,
    **device_options,
) -> PtyServer:
    """Start a simulated board (:class:`~firmware_host.device_model.DeviceModel`) on a
    pty, optionally behind a :class:`FaultInjector`; returns the running server."""
    from .device_model import DeviceModel

    device: ByteDevice = DeviceModel(spec, baud=baud or 0, **device_options)
    if faults:
        device = FaultInjector(device, faults, seed)
    return PtyServer(device, baud=baud).start()
