"""BlockFIFO against a deque: random pushes and pops, order, capacity, handshake."""

import random
from collections import deque

from amaranth.sim import Simulator

from hdl.link.block_fifo import BlockFIFO


def test_block_fifo_matches_a_queue():
    dut = BlockFIFO(width=12, depth=4)
    rng = random.Random(3)
    seen = {"full": 0, "popped": 0}

    async def bench(ctx):
        model = deque()
        for _ in range(3000):
            push, pop = rng.random() < 0.55, rng.random() < 0.5
            value = rng.randrange(1 << 12)
            ctx.set(dut.w_data, value)
            ctx.set(dut.w_en, push)
            ctx.set(dut.r_en, pop)
            w_rdy, r_rdy, r_data = ctx.get(dut.w_rdy), ctx.get(dut.r_rdy), ctx.get(dut.r_data)
            assert r_rdy == bool(model) or (not r_rdy and model), (r_rdy, len(model))
            if r_rdy:
                assert r_data == model[0]
            if pop and r_rdy:
                model.popleft()
                seen["popped"] += 1
            if push and w_rdy:
                model.append(value)
            if not w_rdy:
                seen["full"] += 1
                assert len(model) >= 4  # never refuses below its storage depth
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen["full"] > 50 and seen["popped"] > 1000  # both ends were exercised
