"""The input buffer alone: SPIKES_IN's sources set into a slot (after clearing it) come
out of a FEED as one INPUT each, ascending, and are cleared by it; other slots stay;
CLEAR_ALL empties every slot; the spike record reads back what was written."""

from __future__ import annotations

import random

from amaranth.sim import Simulator

from hdl.commands import Op
from hdl.link.input_buffer import Bitmap, InputBuffer
from snn.core_spec import CoreSpec

SPEC = CoreSpec(max_inputs=12, max_neurons=8)  # 12 inputs: a 16-bit slot, 4 bits never fed
DEPTH = 4


def test_slots_feed_clear_and_the_record():
    dut = InputBuffer(SPEC, DEPTH)
    rng = random.Random(1)
    log = []

    async def walk(ctx, kind, slot=0):
        """One walk; returns the INPUT commands it sent (the core stalls at random)."""
        ctx.set(dut.start.payload.walk, kind)
        ctx.set(dut.start.payload.slot, slot)
        ctx.set(dut.start.valid, 1)
        await ctx.tick()
        ctx.set(dut.start.valid, 0)
        inputs = []
        for _ in range(500):
            ready = rng.random() < 0.6
            ctx.set(dut.cmd.ready, ready)
            _, _, valid, cmd, done, fed = await ctx.tick().sample(
                dut.cmd.valid, dut.cmd.payload, dut.done, dut.fed
            )
            if valid and ready:
                assert cmd.op == Op.INPUT
                inputs.append(cmd.data)
            if done:
                assert fed == (kind == Bitmap.FEED)
                return inputs
        raise AssertionError("the walk did not end")

    async def put(ctx, slot, sources):
        """SPIKES_IN: clear the slot, then set each source."""
        await walk(ctx, Bitmap.CLEAR_SLOT, slot)
        for s in sources:
            ctx.set(dut.set.payload, s)
            ctx.set(dut.set.valid, 1)
            await ctx.tick()
        ctx.set(dut.set.valid, 0)

    async def bench(ctx):
        await put(ctx, 1, [5, 0, 5, 11])
        await put(ctx, 2, [3])
        await put(ctx, 1, [7, 2, 9])  # set, not add: 5, 0, 11 are gone
        log.append(await walk(ctx, Bitmap.FEED, 1))
        log.append(await walk(ctx, Bitmap.FEED, 1))  # fed once: cleared
        log.append(await walk(ctx, Bitmap.FEED, 2))
        await put(ctx, 3, [1, 4])
        await walk(ctx, Bitmap.CLEAR_ALL)
        log.append(await walk(ctx, Bitmap.FEED, 3))
        # the record: neurons at their positions, one past max_neurons dropped
        for pos, neuron in enumerate([6, 1, 3]):
            ctx.set(dut.spike.payload.pos, pos)
            ctx.set(dut.spike.payload.neuron, neuron)
            ctx.set(dut.spike.valid, 1)
            await ctx.tick()
        ctx.set(dut.spike.valid, 0)
        got = []
        for pos in range(3):
            ctx.set(dut.record_addr, pos)
            await ctx.tick()
            got.append(ctx.get(dut.record_data))
        log.append(got)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert log == [[2, 7, 9], [], [3], [], [6, 1, 3]]
