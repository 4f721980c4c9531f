"""Run a :class:`hdl.core.Core` in the Amaranth simulator behind a :class:`CoreSession`."""

from __future__ import annotations

from amaranth.sim import Simulator

from hdl.core import Core
from hdl.driver import CoreSession


def run_core(spec, body, *, vcd: str | None = None) -> dict:
    """Simulate a core of ``spec``; ``await body(session, ctx)`` is the testbench.

    Returns ``{"cycles": ...}`` and whatever ``body`` stored in the dict it returns.
    """
    dut = Core(spec)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    out = {}

    async def tb(ctx):
        async def send(word):
            ctx.set(dut.cmd.payload.as_value(), word)
            ctx.set(dut.cmd.valid, 1)
            await ctx.tick().until(dut.cmd.ready)
            ctx.set(dut.cmd.valid, 0)

        async def recv():
            ctx.set(dut.resp.ready, 1)
            (word,) = await ctx.tick().sample(dut.resp.payload.as_value()).until(dut.resp.valid)
            ctx.set(dut.resp.ready, 0)
            return word

        result = await body(CoreSession(spec, send, recv), ctx)
        out.update(result or {})

    sim.add_testbench(tb)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return out
