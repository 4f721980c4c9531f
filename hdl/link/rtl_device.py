"""The RTL behind the host's byte-device seam: :class:`LinkCore` in the Amaranth simulator.

:class:`RtlDevice` implements ``exchange(bytes) -> bytes`` and ``idle()`` like
:class:`firmware_host.device_model.DeviceModel`, so
:class:`firmware_host.transports.PtyServer` serves the gateware on a pseudo-terminal and
``firmware_host.Board`` opens it like a USB UART (``serve_rtl``; ``snn board ...
--port sim-rtl``).

The bytes bypass the UART's bit timing: they enter the frame decoder's byte stream one
per clock cycle, and the encoder's bytes are taken as they come (the UART itself is
tested on its own and in the board top, bit by bit). A simulated clock cycle costs tens
of microseconds, a UART byte would cost 10 x divisor of them.
"""

from __future__ import annotations

from collections import deque

from amaranth.sim import Simulator

from snn.core_spec import CoreSpec

from .link_core import LinkCore
from .params import LinkParams

PERIOD = 1e-8  # simulated clock period (s); only the ratios matter
CHUNK = 256  # cycles simulated between checks for quiet
RUN_CYCLES = 4096  # cycles of a free run simulated per exchange() without input


def sim_params(spec: CoreSpec, **overrides) -> LinkParams:
    """Link parameters for the simulated RTL: a short time-out (in cycles), clock 0 in
    IDENTIFY (as the simulated core); the UART is not simulated."""
    values = dict(clock_hz=0, baud=0, timeout_cycles=2000)
    values.update(overrides)
    return LinkParams(**values)


class RtlDevice:
    """A byte device running the link gateware and a core of ``spec`` cycle by cycle."""

    def __init__(
        self, spec: CoreSpec | None = None, params: LinkParams | None = None, *, max_cycles: int = 5_000_000
    ):
        self.spec = spec or CoreSpec()
        self.params = params or sim_params(self.spec)
        self.max_cycles = max_cycles  # per exchange: a design that never goes quiet is a bug
        self.dut = LinkCore(self.spec, self.params)
        self.cycles = 0
        self._inbox: deque[int] = deque()
        self._out = bytearray()
        self._quiet = False
        self._running = False
        self._sim = Simulator(self.dut)
        self._sim.add_clock(PERIOD)
        self._sim.add_testbench(self._bench, background=True)

    async def _bench(self, ctx):
        dut = self.dut
        ctx.set(dut.tx.ready, 1)
        while True:
            if self._inbox:
                ctx.set(dut.rx.payload, self._inbox.popleft())
                ctx.set(dut.rx.valid, 1)
            else:
                ctx.set(dut.rx.valid, 0)
            _, _, valid, byte, busy, running = await ctx.tick().sample(
                dut.tx.valid, dut.tx.payload, dut.busy, dut.running
            )
            if valid:
                self._out.append(byte)
            self._quiet = not busy and not self._inbox
            self._running = bool(running)

    def _advance(self, cycles: int) -> None:
        self.cycles += cycles
        self._sim.run_until(self.cycles * PERIOD)

    def exchange(self, received: bytes) -> bytes:
        """Feed ``received``, simulate until the design has answered everything; return its
        bytes. With nothing received during a free run, simulate a while of it."""
        self._inbox.extend(received)
        spent = 0
        self._quiet = False
        while not self._quiet:
            self._advance(CHUNK)
            spent += CHUNK
            if spent > self.max_cycles:
                raise RuntimeError(f"the RTL did not go quiet within {self.max_cycles} cycles")
        if self._running and not received:
            self._advance(RUN_CYCLES)
        out, self._out = bytes(self._out), bytearray()
        return out

    def idle(self) -> None:
        """Let the decoder's inter-byte time-out pass (it drops a half-received frame)."""
        self._advance(self.params.timeout + 2)


def serve_rtl(spec: CoreSpec | None = None, *, params: LinkParams | None = None, **server_options):
    """Start the RTL on a pseudo-terminal; returns the running
    :class:`~firmware_host.transports.PtyServer`."""
    from firmware_host.transports import PtyServer

    return PtyServer(RtlDevice(spec, params), **server_options).start()
