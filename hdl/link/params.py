"""Build-time parameters of the link gateware, and the IDENTIFY reply they imply.

Everything the link needs to know at build time (clock, baud, buffer sizes, time-out)
is in :class:`LinkParams`; with the core's :class:`~snn.core_spec.CoreSpec` it fixes the
bytes of the IDENTIFY reply (:func:`identity`), which the gateware holds in a ROM.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.protocol import ADDRESS, PROTOCOL_VERSION, REPLY_HEAD, SPIKE_RECORD, SPIKES_IN, Identity
from snn.core_spec import CoreSpec

BYTE_BITS = 10  # 8N1: start, 8 data, stop


@dataclass(frozen=True)
class LinkParams:
    """Clock, line rate and buffer sizes of one link build.

    ``max_payload`` defaults (``None``) to the smallest that the protocol requires of
    this core (one timestep's inputs, one spike record) and at least 256 words of
    weights per frame. ``timeout_s`` is the inter-byte time-out after which a
    half-received frame is dropped (``timeout_cycles`` overrides it, for simulation).
    """

    clock_hz: int = 100_000_000
    baud: int = 3_000_000
    credits: int = 2
    max_payload: int | None = None
    input_depth: int = 4
    timeout_s: float = 0.05
    timeout_cycles: int | None = None

    @property
    def divisor(self) -> int:
        """Clock cycles per bit on the line."""
        divisor = round(self.clock_hz / self.baud)
        if divisor < 4:
            raise ValueError(
                f"UART needs at least 4 clock cycles per bit: {self.clock_hz} Hz / {self.baud} baud"
            )
        return divisor

    @property
    def timeout(self) -> int:
        """Inter-byte time-out in clock cycles."""
        if self.timeout_cycles is not None:
            return self.timeout_cycles
        return max(2 * BYTE_BITS * self.divisor, round(self.timeout_s * self.clock_hz))

    def payload_limit(self, spec: CoreSpec) -> int:
        """The longest payload the device accepts and sends (advertised in IDENTIFY)."""
        if self.max_payload is not None:
            return self.max_payload
        needs = (
            SPIKES_IN.size + 2 * spec.max_inputs,  # one timestep's inputs (the protocol's demand)
            REPLY_HEAD.size + SPIKE_RECORD.size + 2 * spec.max_neurons,  # a resent spike record
            ADDRESS.size + 256,  # 256 one-byte weights per WRITE: >= 0.93 of the line rate
        )
        return max(needs)


# spike records kept for SPIKES_RESEND: the record buffer holds the last one
SPIKE_LOG = 1


def identity(spec: CoreSpec, params: LinkParams) -> Identity:
    """What the gateware answers to IDENTIFY."""
    return Identity(
        PROTOCOL_VERSION,
        spec,
        params.clock_hz,
        params.baud,
        params.credits,
        params.payload_limit(spec),
        params.input_depth,
        SPIKE_LOG,
    )
