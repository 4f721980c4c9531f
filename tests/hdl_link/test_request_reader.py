"""The request reader alone, over a request buffer in the simulator: the fixed fields of
each request (zeros past a short payload: lengths 0, 2, 7, 8 and 12), then its bytes from
the seek as a stream taken with gaps; released moves past a payload once, not for a NAKed
frame."""

from __future__ import annotations

import random

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.sim import Simulator

from hdl.link.request_decoder import ARGS_BYTES
from hdl.link.request_reader import RequestReader

PTR_BITS = 6  # a 32-byte buffer
PAYLOADS = [bytes(range(10, 22)), b"\x05\x06", b"", bytes(range(30, 37)), bytes(range(40, 48))]


class Top(wiring.Component):
    def __init__(self, image):
        self.reader = RequestReader(ptr_bits=PTR_BITS, length_bits=8)
        self.image = image
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.reader = self.reader
        m.submodules.mem = mem = Memory(shape=8, depth=1 << (PTR_BITS - 1), init=self.image)
        rd = mem.read_port()
        m.d.comb += [rd.addr.eq(self.reader.buffer.addr), self.reader.buffer.data.eq(rd.data)]
        return m


def test_fixed_fields_then_the_payload_stream():
    image = bytearray(32)
    at = 0
    for p in PAYLOADS:
        for b in p:
            image[at % 32] = b
            at += 1
    top = Top(list(image))
    dut = top.reader
    rng = random.Random(2)
    got = []

    async def bench(ctx):
        for p in PAYLOADS:
            ctx.set(dut.length, len(p))
            ctx.set(dut.start.payload.held, 1)
            ctx.set(dut.start.valid, 1)
            await ctx.tick()
            ctx.set(dut.start.valid, 0)
            while not ctx.get(dut.fetched):
                await ctx.tick()
            fixed = ctx.get(dut.fixed).to_bytes(ARGS_BYTES, "little")
            ctx.set(dut.seek, 1)
            ctx.set(dut.seek_to, 2)  # the words start after two bytes of fixed fields, say
            await ctx.tick()
            ctx.set(dut.seek, 0)
            stream = bytearray()
            while len(stream) < len(p) - 2:
                take = rng.random() < 0.6
                ctx.set(dut.payload.ready, take)
                _, _, valid, byte = await ctx.tick().sample(dut.payload.valid, dut.payload.payload)
                if valid and take:
                    stream.append(byte)
            ctx.set(dut.payload.ready, 0)
            before = ctx.get(dut.released)
            for _ in range(2):  # once: a second release does nothing
                ctx.set(dut.release, 1)
                await ctx.tick()
            ctx.set(dut.release, 0)
            got.append((fixed, bytes(stream), (ctx.get(dut.released) - before) % (1 << PTR_BITS)))
        # a NAKed frame: no payload held, nothing released
        ctx.set(dut.length, 0)
        ctx.set(dut.start.payload.held, 0)
        ctx.set(dut.start.valid, 1)
        await ctx.tick()
        ctx.set(dut.start.valid, 0)
        before = ctx.get(dut.released)
        ctx.set(dut.release, 1)
        await ctx.tick()
        got.append(ctx.get(dut.released) == before)

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    want = [(p[:ARGS_BYTES].ljust(ARGS_BYTES, b"\0"), p[2:], len(p)) for p in PAYLOADS]
    assert got == [*want, True]
