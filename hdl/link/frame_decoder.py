"""Frame decoder: COBS unstuffing, CRC-16 check and header checks, one byte per cycle.

Decoded payload bytes go straight into the request buffer (a circular byte memory
shared with the command engine); the header stays in registers. At each ``0x00`` the
decoder gives one *descriptor* (:func:`frame_layout`) on ``frames``: ``status`` OK with
the payload's place in the buffer, or a NAK status for a bad frame whose sequence number
is known (BAD_CRC, BAD_LENGTH, BUSY when the buffer is full). Frames too mangled to
carry a sequence number (bad COBS, fewer than 2 bytes) vanish, as in
:class:`firmware_host.framing.StreamDecoder`. A frame whose bytes stop for ``timeout``
cycles is dropped; so is a frame arriving while ``frames`` is not ready.
"""

from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import WritePort
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from firmware_host.protocol import CRC_BYTES, HEADER, PROTOCOL_VERSION, Status
from hdl.compare import at_least, below

from .crc import INIT, crc16_byte


def frame_layout(ptr_bits: int) -> data.StructLayout:
    """A received frame: status, header fields, and where its payload starts in the buffer."""
    return data.StructLayout(
        {
            "status": unsigned(8),
            "version_ok": unsigned(1),  # the header's version is PROTOCOL_VERSION
            "seq": unsigned(8),
            "opcode": unsigned(8),
            "length": unsigned(16),
            "start": unsigned(ptr_bits),
        }
    )


class FrameDecoder(wiring.Component):
    """Decodes the received byte stream into the request buffer and frame descriptors.

    The buffer has ``depth`` bytes (a power of two); pointers have one more bit, so the
    command engine's ``released`` pointer (everything before it is free) tells full from
    empty. ``max_payload`` longer payloads are refused as BAD_LENGTH.
    """

    def __init__(self, *, depth: int, max_payload: int, timeout: int):
        if depth & (depth - 1) or depth < max_payload + CRC_BYTES:
            raise ValueError(f"buffer depth {depth} must be a power of two >= max_payload + {CRC_BYTES}")
        self.depth, self.max_payload, self.timeout = depth, max_payload, timeout
        self.ptr_bits = ceil_log2(depth) + 1
        super().__init__(
            {
                "bytes": In(stream.Signature(8, always_ready=True)),
                "error": In(1),  # a byte was lost on the line (UART framing error)
                "buffer": In(WritePort.Signature(addr_width=self.ptr_bits - 1, shape=8)),
                "released": In(self.ptr_bits),
                "frames": Out(stream.Signature(frame_layout(self.ptr_bits))),
                "busy": Out(1),  # inside a frame
            }
        )

    def elaborate(self, platform):
        m = Module()
        hsize, limit = HEADER.size, self.max_payload + CRC_BYTES
        in_frame = Signal()
        remaining = Signal(8)  # bytes left in the current COBS block
        after_ff = Signal()  # the current block's code was 0xFF: no implied zero after it
        first = Signal(init=1)  # no code byte yet
        pos = Signal(range(hsize + limit + 2))  # decoded bytes, saturating past the limit
        crc = Signal(16, init=INIT)
        corrupt = Signal()  # a byte was lost (framing error)
        full = Signal()  # the buffer had no room
        start = Signal(self.ptr_bits)  # where this frame's payload starts
        header = Signal(8 * hsize)
        idle = Signal(range(self.timeout + 1))
        seq, opcode, length = header[8:16], header[16:24], header[24:40]
        version_ok = Signal()  # kept as a flag: the engine needs no more of the version

        def restart():
            m.d.sync += [
                in_frame.eq(0),
                remaining.eq(0),
                after_ff.eq(0),
                first.eq(1),
                pos.eq(0),
                crc.eq(INIT),
                header.eq(0),
                version_ok.eq(0),
                corrupt.eq(0),
                full.eq(0),
            ]

        m.d.comb += self.busy.eq(in_frame)
        # a decoded byte (data or an implied zero) of this cycle
        out_valid, out_byte = Signal(), Signal(8)
        byte = self.bytes.payload
        with m.If(self.bytes.valid & (byte != 0)):
            m.d.sync += [in_frame.eq(1), idle.eq(0)]
            with m.If(remaining == 0):  # a code byte: its block is code-1 bytes long
                m.d.sync += [remaining.eq(byte - 1), after_ff.eq(byte == 0xFF), first.eq(0)]
                m.d.comb += [out_valid.eq(~first & ~after_ff), out_byte.eq(0)]
            with m.Else():
                m.d.sync += remaining.eq(remaining - 1)
                m.d.comb += [out_valid.eq(1), out_byte.eq(byte)]
        with m.If(self.error):
            m.d.sync += [corrupt.eq(1), in_frame.eq(1), idle.eq(0)]

        # every decoded byte: CRC, header or buffer
        offset = (pos - hsize)[: self.ptr_bits]
        at = (start + offset)[: self.ptr_bits]  # the byte's place (a pointer: wrap bit on top)
        # the buffer is full when the byte's place is a lap ahead of released: the room in
        # use (at - released) is at most depth when the payload starts and grows one byte
        # at a time (released only frees room), so it meets depth before it passes it, and
        # the frame is BUSY from then on (full; no more of it is written)
        lap = (at ^ self.released) == self.depth
        with m.If(out_valid):
            m.d.sync += crc.eq(crc16_byte(crc, out_byte))
            with m.If(below(pos, hsize + limit + 1)):
                m.d.sync += pos.eq(pos + 1)
            with m.If(below(pos, hsize)):
                m.d.sync += header.word_select(pos[:3], 8).eq(out_byte)
                with m.If(pos == 0):
                    m.d.sync += version_ok.eq(out_byte == PROTOCOL_VERSION)
            with m.Elif(below(pos, hsize + limit)):
                with m.If(~full & ~lap):
                    m.d.comb += [
                        self.buffer.addr.eq(at),
                        self.buffer.data.eq(out_byte),
                        self.buffer.en.eq(1),
                    ]
                with m.Else():
                    m.d.sync += full.eq(1)

        # the delimiter: judge the frame
        desc = self.frames.payload
        delimiter = self.bytes.valid & (byte == 0)
        with m.If(delimiter):
            with m.If(in_frame):
                status = Signal(8)
                payload = pos - hsize - CRC_BYTES
                short = below(pos, hsize + CRC_BYTES)  # no room for a header and a CRC
                with m.If(corrupt | (crc != 0)):
                    m.d.comb += status.eq(Status.BAD_CRC)
                with m.Elif(short | at_least(pos, hsize + limit + 1) | (length != payload)):
                    m.d.comb += status.eq(Status.BAD_LENGTH)
                with m.Elif(full):
                    m.d.comb += status.eq(Status.BUSY)
                with m.Else():
                    m.d.comb += status.eq(Status.OK)
                # a short frame is BAD_LENGTH before its CRC is judged (as framing.parse)
                with m.If(short):
                    m.d.comb += status.eq(Status.BAD_LENGTH)
                cobs_ok = (remaining == 0) & ~first
                with m.If(cobs_ok & at_least(pos, 2)):  # else nothing to address a reply to
                    # offered for this cycle only: a frame the engine has no room for is dropped
                    m.d.comb += [
                        desc.status.eq(status),
                        desc.version_ok.eq(version_ok),
                        desc.seq.eq(seq),
                        desc.opcode.eq(opcode),
                        desc.length.eq(length),
                        desc.start.eq(start),
                        self.frames.valid.eq(1),
                    ]
                    with m.If((status == Status.OK) & self.frames.ready):
                        m.d.sync += start.eq(start + length)  # the buffer keeps the payload
        # the delimiter, or the line went quiet inside a frame (drop it): one restart
        with m.If(delimiter | (in_frame & (idle == self.timeout))):
            restart()
        with m.Elif(in_frame & ~self.bytes.valid):
            m.d.sync += idle.eq(idle + 1)
        return m
