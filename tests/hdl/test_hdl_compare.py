"""hdl.compare: constant comparisons as logic equal Python's, for every value of small widths."""

import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from hdl.compare import at_least, below


@pytest.mark.parametrize("width", [1, 3, 5])
def test_below_and_at_least_match_python(width):
    x = Signal(width)
    constants = sorted({0, 1, 2, 5, 7, 8, (1 << width) - 1, 1 << width, (1 << width) + 3})
    outs = {c: (Signal(name=f"lt{c}"), Signal(name=f"ge{c}")) for c in constants}
    m = Module()
    for c, (lt, ge) in outs.items():
        m.d.comb += [lt.eq(below(x, c)), ge.eq(at_least(x, c))]

    async def bench(ctx):
        for value in range(1 << width):
            ctx.set(x, value)
            for c, (lt, ge) in outs.items():
                assert ctx.get(lt) == (value < c), (value, c)
                assert ctx.get(ge) == (value >= c), (value, c)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
