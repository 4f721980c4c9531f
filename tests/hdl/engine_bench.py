"""Run one engine in the Amaranth simulator with its memories attached directly."""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module, Mux, Shape, Signal
from amaranth.lib import data
from amaranth.lib.memory import Memory
from amaranth.sim import Simulator

from hdl.weight_memory import banked


class Bench(Elaboratable):
    """``engine`` plus a memory per port pair: ``mems[name] = (depth, width, lanes, init)``.

    A memory ``name`` serves the engine's ``name_rd`` and/or ``name_wr`` ports. The memories
    named in ``single_port`` behave as single-port RAM banks (the core's weight matrices,
    ``hdl/weight_memory.py``): with ``stride`` (the row length, a power of two) two
    checkerboard banks, word ``a`` in bank ``a[0] ^ a[log2 stride]``, else one bank; in a
    cycle with the write enabled the read of the written bank is lost; its data, the next
    cycle, is the inverse of the word read (wrong in every bit, so that an engine using it
    fails). ``mirrors``: ``{copy: original}``, a memory the engine only reads that takes
    every write the engine makes to ``original`` (the core's copies of the trace memories).
    The memories named in ``collide`` behave as ``BlockMemory(exclusive=False)``: reads go on
    while other words are written, and a read that meets a write of its own word returns that
    word with every bit inverted (the core's memories give don't-care data there).
    """

    def __init__(
        self,
        engine,
        mems: dict[str, tuple[int, int, int, list[int]]],
        single_port=(),
        stride=None,
        mirrors=None,
        collide=(),
    ):
        self.mirrors = dict(mirrors or {})
        self.engine = engine
        self.memories = {
            name: Memory(shape=width, depth=depth, init=init)
            for name, (depth, width, _, init) in mems.items()
        }
        self.lanes = {name: lanes for name, (_, _, lanes, _) in mems.items()}
        self.single_port = set(single_port)
        self.collide = set(collide)
        self.lost_reads = {name: Signal(name=f"{name}_lost") for name in self.single_port}
        self.row_bit = stride.bit_length() - 1 if banked(stride) else None

    def bank(self, addr):
        """The bank of ``addr`` (0 with one bank)."""
        return addr[0] ^ addr[self.row_bit] if self.row_bit is not None else 0

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = self.engine
        for name, mem in self.memories.items():
            m.submodules[name] = mem
            width = Shape.cast(mem.shape).width
            rd_name, wr_name = f"{name}_rd", f"{name}_wr"
            wr = None
            if name in self.mirrors:
                wr_name = f"{self.mirrors[name]}_wr"
            if hasattr(self.engine, wr_name):
                lanes = self.lanes[name]
                wr = mem.write_port(granularity=None if lanes == 1 else width // lanes)
                user = getattr(self.engine, wr_name)
                m.d.comb += [wr.addr.eq(user.addr), wr.data.eq(user.data), wr.en.eq(user.en)]
            if hasattr(self.engine, rd_name):
                transparent = wr is not None and name not in self.collide
                rd = mem.read_port(transparent_for=(wr,) if transparent else ())
                user = getattr(self.engine, rd_name)
                if name in self.collide and wr is not None:
                    met = Signal(name=f"{name}_met")  # the data on the read port met a write of its word
                    with m.If(user.en):
                        m.d.sync += met.eq((wr.en != 0) & (wr.addr == user.addr))
                    m.d.comb += [
                        rd.addr.eq(user.addr),
                        rd.en.eq(user.en),
                        user.data.eq(Mux(met, ~rd.data, rd.data)),
                    ]
                elif name in self.single_port and wr is not None:
                    lost = self.lost_reads[name]
                    clash = (wr.en != 0) & (self.bank(wr.addr) == self.bank(user.addr))
                    m.d.sync += lost.eq(clash)
                    m.d.comb += [
                        rd.addr.eq(Mux(clash, wr.addr, user.addr)),
                        rd.en.eq(user.en | clash),
                        user.data.eq(Mux(lost, ~rd.data, rd.data)),
                    ]
                else:
                    m.d.comb += [rd.addr.eq(user.addr), rd.en.eq(user.en), user.data.eq(rd.data)]
        return m


def run(bench: Bench, setup: dict, *, reset: bool = False, timeout: int = 100_000, outputs=()) -> dict:
    """Pulse ``start`` with the engine's inputs ``setup``; wait for ``done``.

    Returns ``{"cycles": ..., "memories": {name: words}}`` and the engine's signals named in
    ``outputs`` as the cycle of ``done`` leaves them.
    """
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
        out.update({name: ctx.get(getattr(engine, name)) for name in outputs})
        out["memories"] = {
            name: [ctx.get(mem.data[i]) for i in range(mem.depth)] for name, mem in bench.memories.items()
        }

    sim.add_testbench(tb)
    sim.run()
    return out
