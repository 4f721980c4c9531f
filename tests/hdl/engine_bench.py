"""Run one engine in the Amaranth simulator with its memories attached directly."""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module, Mux, Shape, Signal
from amaranth.lib import data
from amaranth.lib.memory import Memory
from amaranth.sim import Simulator


class Bench(Elaboratable):
    """``engine`` plus a memory per port pair: ``mems[name] = (depth, width, lanes, init)``.

    A memory ``name`` serves the engine's ``name_rd`` and/or ``name_wr`` ports. The memories
    named in ``single_port`` behave as one single-port RAM (the core's weight matrices on
    an iCE40 UP, ``hdl/weight_memory.py``): in a cycle with the write enabled the address
    is the write's and the read of that cycle is lost; its data, the next cycle, is the
    inverse of the word read (wrong in every bit, so that an engine using it fails).
    """

    def __init__(self, engine, mems: dict[str, tuple[int, int, int, list[int]]], single_port=()):
        self.engine = engine
        self.memories = {
            name: Memory(shape=width, depth=depth, init=init)
            for name, (depth, width, _, init) in mems.items()
        }
        self.lanes = {name: lanes for name, (_, _, lanes, _) in mems.items()}
        self.single_port = set(single_port)
        self.lost_reads = {name: Signal(name=f"{name}_lost") for name in self.single_port}

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = self.engine
        for name, mem in self.memories.items():
            m.submodules[name] = mem
            width = Shape.cast(mem.shape).width
            rd_name, wr_name = f"{name}_rd", f"{name}_wr"
            wr = None
            if hasattr(self.engine, wr_name):
                lanes = self.lanes[name]
                wr = mem.write_port(granularity=None if lanes == 1 else width // lanes)
                user = getattr(self.engine, wr_name)
                m.d.comb += [wr.addr.eq(user.addr), wr.data.eq(user.data), wr.en.eq(user.en)]
            if hasattr(self.engine, rd_name):
                rd = mem.read_port(transparent_for=(wr,) if wr is not None else ())
                user = getattr(self.engine, rd_name)
                if name in self.single_port and wr is not None:
                    lost = self.lost_reads[name]
                    m.d.sync += lost.eq(wr.en != 0)
                    m.d.comb += [
                        rd.addr.eq(Mux(wr.en != 0, wr.addr, user.addr)),
                        rd.en.eq(user.en | (wr.en != 0)),
                        user.data.eq(Mux(lost, ~rd.data, rd.data)),
                    ]
                else:
                    m.d.comb += [rd.addr.eq(user.addr), rd.en.eq(user.en), user.data.eq(rd.data)]
        return m


def run(bench: Bench, setup: dict, *, reset: bool = False, timeout: int = 100_000) -> int:
    """Pulse ``start`` with the engine's inputs ``setup``; wait for ``done``; return the cycles."""
    sim = Simulator(bench)
    sim.add_clock(1e-8)
    engine = bench.engine
    out = {}

    async def tb(ctx):
        for name, value in setup.items():
            target = getattr(engine, name)
            ctx.set(target.as_value() if isinstance(target, data.View) else target, value)
        if hasattr(engine, "reset"):
            ctx.set(engine.reset, reset)
        ctx.set(engine.start, 1)
        await ctx.tick()
        ctx.set(engine.start, 0)
        cycles = 1
        while not ctx.get(engine.done):
            await ctx.tick()
            cycles += 1
            assert cycles < timeout, "engine did not finish"
        out["cycles"] = cycles
        out["memories"] = {
            name: [ctx.get(mem.data[i]) for i in range(mem.depth)] for name, mem in bench.memories.items()
        }

    sim.add_testbench(tb)
    sim.run()
    return out
