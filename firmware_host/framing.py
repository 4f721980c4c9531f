"""Frames on the wire: COBS byte stuffing, CRC-16/XMODEM and a resynchronising decoder.

A frame is ``COBS(header + payload + CRC) + 0x00`` (docs/protocol.md). The decoder
accepts any byte stream (noise, truncated or merged frames) and always comes back in
step at the next ``0x00``: it never raises and never waits for more than one frame.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

from .protocol import (
    CRC_BYTES,
    DELIMITER,
    HEADER,
    MAX_FRAME,
    PROTOCOL_VERSION,
    Status,
)


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no final xor); check 0x31C3."""
    return binascii.crc_hqx(data, 0)


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: ``data`` without any 0x00, +1 byte per 254."""
    out = bytearray()
    for piece in data.split(b"\x00"):
        # a full block (code 0xFF) implies no zero after it
        while len(piece) >= 0xFE:
            out.append(0xFF)
            out += piece[:0xFE]
            piece = piece[0xFE:]
        out.append(len(piece) + 1)
        out += piece
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Inverse of :func:`cobs_encode`; raises ``ValueError`` on a malformed block."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        end = i + code
        if code == 0 or end > n:
            raise ValueError("COBS code byte is 0 or points past the end of the frame")
        block = data[i + 1 : end]
        if 0 in block:
            raise ValueError("0x00 inside a COBS block")
        out += block
        i = end
        if code < 0xFF and i < n:
            out.append(0)
    return bytes(out)


@dataclass(frozen=True)
class Frame:
    """A decoded frame: header fields and payload (CRC already checked)."""

    seq: int
    opcode: int
    payload: bytes = b""
    version: int = PROTOCOL_VERSION

    def encode(self) -> bytes:
        """Wire bytes: COBS-encoded header, payload and CRC, then the 0x00 delimiter."""
        body = HEADER.pack(self.version, self.seq & 0xFF, self.opcode, len(self.payload)) + self.payload
        return cobs_encode(body + crc16(body).to_bytes(CRC_BYTES, "big")) + DELIMITER


@dataclass(frozen=True)
class BadFrame:
    """Bytes between two delimiters that are not a frame; ``seq``/``opcode`` are hints."""

    status: Status
    seq: int | None
    opcode: int | None
    size: int


def parse(raw: bytes) -> Frame | BadFrame:
    """Check one COBS-encoded frame (delimiter removed)."""
    try:
        body = cobs_decode(raw)
    except ValueError:
        return BadFrame(Status.BAD_CRC, None, None, len(raw))
    seq = body[1] if len(body) > 1 else None
    opcode = body[2] if len(body) > 2 else None
    if len(body) < HEADER.size + CRC_BYTES:
        return BadFrame(Status.BAD_LENGTH, seq, opcode, len(raw))
    if crc16(body) != 0:  # the CRC travels MSB first, so a good frame leaves remainder 0
        return BadFrame(Status.BAD_CRC, seq, opcode, len(raw))
    version, seq, opcode, length = HEADER.unpack_from(body)
    payload = body[HEADER.size : -CRC_BYTES]
    if length != len(payload):
        return BadFrame(Status.BAD_LENGTH, seq, opcode, len(raw))
    return Frame(seq, opcode, payload, version)


class StreamDecoder:
    """Turns a byte stream into frames and bad frames; resynchronises at every 0x00.

    Bytes beyond :data:`MAX_FRAME` without a delimiter are dropped (one ``BAD_LENGTH``
    is reported at the next delimiter), so the buffer is bounded whatever arrives.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> list[Frame | BadFrame]:
        """Consume ``data``; return what completed in it, in order."""
        out: list[Frame | BadFrame] = []
        start = 0
        while True:
            end = data.find(DELIMITER, start)
            chunk = data[start:] if end < 0 else data[start:end]
            if not self._overflow:
                self._buf += chunk
                if len(self._buf) > self.max_frame:
                    self._overflow = True
                    self._buf.clear()
            if end < 0:
                return out
            if self._overflow:
                out.append(BadFrame(Status.BAD_LENGTH, None, None, self.max_frame + 1))
            elif self._buf:
                out.append(parse(bytes(self._buf)))
            self._buf.clear()
            self._overflow = False
            start = end + 1

    def reset(self) -> None:
        """Forget a half-received frame (an inter-byte time-out)."""
        self._buf.clear()
        self._overflow = False
