"""The frame decoder and encoder against firmware_host.framing, byte for byte.

The decoder is fuzzed with random bytes, truncated frames, bad CRCs and merged frames
(hypothesis): it must report exactly what the Python decoder reports (frames and the
bad frames that carry a sequence number), never get stuck, and be back in step at the
next 0x00.
"""

from __future__ import annotations

import random
from collections import deque

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import Out
from amaranth.sim import Simulator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_host.framing import Frame, StreamDecoder, cobs_encode, crc16
from firmware_host.protocol import CRC_CHECK, HEADER, PROTOCOL_VERSION, Status
from hdl.link.crc import crc16_byte
from hdl.link.frame_decoder import FrameDecoder
from hdl.link.frame_encoder import FrameEncoder

DEPTH, MAX_PAYLOAD, TIMEOUT = 256, 200, 40


def test_crc_matches_python():
    crc = Signal(16)
    byte = Signal(8)
    out = crc16_byte(crc, byte)
    data = b"123456789" + bytes(range(0, 256, 7))

    async def bench(ctx):
        value = 0
        for i, b in enumerate(data):
            ctx.set(crc, value)
            ctx.set(byte, b)
            value = ctx.get(out)
            if i == 8:
                assert value == CRC_CHECK
        assert value == crc16(data)

    sim = Simulator(Module())
    sim.add_testbench(bench)
    sim.run()


class DecoderBench:
    """One simulation of the decoder and its buffer, fed stream after stream (building a
    simulator costs a second; a byte costs a few microseconds). The consumer takes every
    frame at once and releases its payload."""

    def __init__(self):
        m = Module()
        m.submodules.dec = dec = FrameDecoder(depth=DEPTH, max_payload=MAX_PAYLOAD, timeout=TIMEOUT)
        m.submodules.mem = mem = Memory(shape=8, depth=DEPTH, init=[])
        wr = mem.write_port()
        m.d.comb += [wr.addr.eq(dec.buffer.addr), wr.data.eq(dec.buffer.data), wr.en.eq(dec.buffer.en)]
        self.inbox: deque = deque()  # bytes, or ("gap", cycles)
        self.out: list[tuple] = []
        self.time = 0.0

        async def bench(ctx):
            ctx.set(dec.frames.ready, 1)
            while True:
                item = self.inbox.popleft() if self.inbox else ("gap", 1)
                if isinstance(item, tuple):
                    ctx.set(dec.bytes.valid, 0)
                    await ctx.tick().repeat(item[1])
                    continue
                ctx.set(dec.bytes.payload, item)
                ctx.set(dec.bytes.valid, 1)
                valid, desc = ctx.get(dec.frames.valid), ctx.get(dec.frames.payload)
                await ctx.tick()
                ctx.set(dec.bytes.valid, 0)
                if not valid:
                    continue
                if desc.status == Status.OK:
                    start = desc.start % DEPTH
                    payload = bytes(ctx.get(mem.data[(start + k) % DEPTH]) for k in range(desc.length))
                    ctx.set(dec.released, (desc.start + desc.length) % (2 * DEPTH))
                    self.out.append(("frame", desc.version_ok, desc.seq, desc.opcode, payload))
                else:
                    self.out.append(("bad", Status(desc.status), desc.seq, desc.opcode))

        self.dec = dec
        self.sim = Simulator(m)
        self.sim.add_clock(1e-8)
        self.sim.add_testbench(bench, background=True)

    def run(self, stream: bytes, *, gaps: dict[int, int] | None = None) -> list[tuple]:
        """Feed ``stream`` (``gaps[i]`` idle cycles before byte ``i``); return the reports."""
        gaps = gaps or {}
        self.out = []
        for i, byte in enumerate(stream):
            if gaps.get(i):
                self.inbox.append(("gap", gaps[i]))
            self.inbox.append(byte)
        while self.inbox:
            self.time += (len(self.inbox) + sum(gaps.values()) + 4) * 1e-8
            self.sim.run_until(self.time)
        return self.out


_bench: DecoderBench | None = None


def decode(stream: bytes, **kw) -> list[tuple]:
    """What the gateware decoder reports for ``stream`` (after a 0x00 that ends any
    leftover of the stream before)."""
    global _bench
    if _bench is None:
        _bench = DecoderBench()
    _bench.run(b"\x00")
    return _bench.run(stream, **kw)


def expected(stream: bytes) -> list[tuple]:
    """What the gateware must report: firmware_host.framing's view, less the bad frames
    without a sequence number, with payloads beyond MAX_PAYLOAD refused."""
    out = []
    for item in StreamDecoder().feed(stream):
        if isinstance(item, Frame):
            if len(item.payload) > MAX_PAYLOAD:
                out.append(("bad", Status.BAD_LENGTH, item.seq, item.opcode))
            else:
                out.append(
                    ("frame", int(item.version == PROTOCOL_VERSION), item.seq, item.opcode, item.payload)
                )
        elif item.seq is not None:
            out.append(("bad", item.status, item.seq, item.opcode or 0))
    return out


def test_good_frames_and_simple_faults():
    good = [Frame(7, 0x10, bytes(range(30))), Frame(8, 0x01), Frame(9, 0x11, b"\x00" * 260)]
    bad_crc = bytearray(Frame(10, 0x22, b"abc").encode())
    bad_crc[3] ^= 0x40
    stream = b"\x00".join(f.encode() for f in good) + bytes(bad_crc) + Frame(11, 0x02).encode()
    got = decode(b"\x00" + stream)
    assert got == expected(stream)
    assert [g[0] for g in got] == ["frame", "frame", "bad", "bad", "frame"]


def test_timeout_drops_a_half_frame():
    half = Frame(1, 0x10, b"half a frame").encode()[:8]
    whole = Frame(2, 0x11, b"whole").encode()
    got = decode(half + whole, gaps={len(half): TIMEOUT + 5})
    assert got == [("frame", 1, 2, 0x11, b"whole")]
    # without the pause the two merge into one bad frame
    assert decode(half + whole) != got


def test_buffer_full_is_busy():
    # frames are not released: the third frame finds no room; once the first is released
    # a fourth fits, and what the BUSY frame brought wrote over no payload still held
    m = Module()
    frames = [Frame(i, 0x10, bytes([i + 1]) * 100) for i in range(4)]
    m.submodules.dec = dec = FrameDecoder(depth=DEPTH, max_payload=MAX_PAYLOAD, timeout=TIMEOUT)
    statuses, memory = [], {}

    async def bench(ctx):
        ctx.set(dec.frames.ready, 1)
        for i, frame in enumerate(frames):
            if i == 3:
                ctx.set(dec.released, len(frames[0].payload))
            for byte in frame.encode():
                ctx.set(dec.bytes.payload, byte)
                ctx.set(dec.bytes.valid, 1)
                if ctx.get(dec.frames.valid):
                    statuses.append(Status(ctx.get(dec.frames.payload.status)))
                if ctx.get(dec.buffer.en):
                    memory[ctx.get(dec.buffer.addr)] = ctx.get(dec.buffer.data)
                await ctx.tick()
        if ctx.get(dec.frames.valid):
            statuses.append(Status(ctx.get(dec.frames.payload.status)))

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert statuses == [Status.OK, Status.OK, Status.BUSY, Status.OK]
    held = bytes(memory[(100 + i) % DEPTH] for i in range(200))
    assert held == frames[1].payload + frames[3].payload


_frames = st.builds(
    lambda seq, op, payload: Frame(seq, op, payload).encode(),
    st.integers(0, 255),
    st.sampled_from([0x01, 0x10, 0x11, 0x22, 0x7F]),
    st.binary(max_size=40) | st.just(b"\x00" * 255) | st.just(bytes(range(1, 256))),
)


@st.composite
def _pieces(draw):
    frame = draw(_frames)
    kind = draw(st.sampled_from(["good", "truncated", "flipped", "noise", "overlong"]))
    if kind == "truncated":
        return frame[: draw(st.integers(0, len(frame) - 1))]
    if kind == "flipped":
        b = bytearray(frame)
        i = draw(st.integers(0, len(b) - 2))
        b[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(b)
    if kind == "noise":
        return draw(st.binary(min_size=1, max_size=30))
    if kind == "overlong":
        return Frame(3, 0x10, bytes(MAX_PAYLOAD + 5)).encode()
    return frame


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_pieces(), min_size=1, max_size=5))
def test_decoder_fuzz(pieces):
    stream = b"".join(pieces) + b"\x00" + Frame(0xAB, 0x01, b"sync").encode()
    got = decode(stream)
    assert got == expected(stream)
    assert got[-1] == ("frame", 1, 0xAB, 0x01, b"sync")  # back in step at the last delimiter


def encode(bodies: list[bytes], *, stall: int = 0) -> bytes:
    """Run ``bodies`` through the gateware encoder (the sink stalls every ``stall`` cycles)."""
    dut = FrameEncoder()
    out = bytearray()

    async def source(ctx):
        for body in bodies:
            for i, byte in enumerate(body):
                ctx.set(dut.body.payload, {"data": byte, "last": i == len(body) - 1})
                ctx.set(dut.body.valid, 1)
                await ctx.tick().until(dut.body.ready)
        ctx.set(dut.body.valid, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_process(source)
    sim.add_testbench(_sink(dut, len(bodies), stall, out, seed=1))
    sim.run()
    return bytes(out)


def _sink(dut, frames, stall, out, *, seed):
    """A testbench taking the encoder's bytes into ``out`` until ``frames`` delimiters,
    not ready one cycle in ``stall`` at random (never with ``stall`` 0)."""

    async def sink(ctx):
        rng = random.Random(seed)
        idle = 0
        while out.count(0) < frames and idle < 2000:
            ready = not stall or rng.randrange(stall) != 0
            ctx.set(dut.bytes.ready, ready)
            valid, byte = ctx.get(dut.bytes.valid), ctx.get(dut.bytes.payload)
            await ctx.tick()
            idle = 0 if valid else idle + 1
            if valid and ready:
                out.append(byte)
        assert not ctx.get(dut.busy)

    return sink


def test_encoder_matches_python():
    rng = random.Random(5)
    bodies = [
        HEADER.pack(1, 2, 0x81, 0),
        bytes(5),
        bytes(range(1, 255)),  # exactly one full block
        bytes(range(1, 255)) + b"\x00" + bytes(range(1, 100)),
        bytes(rng.randrange(256) for _ in range(600)),
        bytes(rng.choice([0, 0, 1, 255]) for _ in range(50)),
    ]
    want = [cobs_encode(b + crc16(b).to_bytes(2, "big")) + b"\x00" for b in bodies]
    assert encode(bodies) == b"".join(want)
    assert encode(bodies[3:5], stall=3) == b"".join(want[3:5])  # the sink stalls


class _RomReader(wiring.Component):
    """Sends slices of the encoder's ROM as frame bodies, reading them as the command
    engine reads the IDENTIFY ROM: the address one byte ahead, ``rom_data`` sent as it is."""

    def __init__(self, rom: bytes, slices: list[tuple[int, int]]):
        self.rom, self.slices = rom, slices
        super().__init__({"bytes": Out(stream.Signature(8)), "busy": Out(1)})

    def elaborate(self, platform):
        m = Module()
        enc = m.submodules.encoder = FrameEncoder(rom=self.rom)
        idx, idx_next = Signal(range(len(self.rom) + 1)), Signal(range(len(self.rom) + 1))
        m.d.comb += [idx_next.eq(idx), enc.rom_addr.eq(idx_next)]
        m.d.sync += idx.eq(idx_next)
        with m.FSM():
            for i, (start, end) in enumerate(self.slices):
                with m.State(f"START{i}"):  # the address of the slice's first byte
                    m.d.comb += idx_next.eq(start)
                    m.next = f"BODY{i}"
                with m.State(f"BODY{i}"):
                    m.d.comb += [
                        enc.body.valid.eq(1),
                        enc.body.payload.data.eq(enc.rom_data),
                        enc.body.payload.last.eq(idx == end - 1),
                    ]
                    with m.If(enc.body.ready):
                        m.d.comb += idx_next.eq(idx + 1)
                        with m.If(idx == end - 1):
                            m.next = f"START{i + 1}" if i + 1 < len(self.slices) else "DONE"
            with m.State("DONE"):
                pass
        wiring.connect(m, enc.bytes, wiring.flipped(self.bytes))
        m.d.comb += self.busy.eq(enc.busy)
        return m


def test_encoder_rom_read_between_flushes():
    """The ROM beside the block: bodies read from ``rom_data`` while the encoder collects
    are the ROM's bytes, also right after a zero or a full block flushed the block (the
    read port then showed the block: the encoder waits a cycle before it takes a byte)."""
    rom = bytes(range(1, 255)) + b"\x00\x07"  # a full block, then a zero, then a byte
    slices = [(0, 256), (254, 256), (250, 256), (0, 3), (253, 255)]
    bodies = [rom[a:b] for a, b in slices]
    want = b"".join(cobs_encode(b + crc16(b).to_bytes(2, "big")) + b"\x00" for b in bodies)
    for stall in (0, 3):
        dut = _RomReader(rom, slices)
        out = bytearray()
        sim = Simulator(dut)
        sim.add_clock(1e-8)
        sim.add_testbench(_sink(dut, len(bodies), stall, out, seed=2))
        sim.run()
        assert bytes(out) == want, f"stall {stall}"
