"""hdl/skewed_memory.py: the wide core's weights in ``P`` skewed banks.

The layout (weight ``(r, c)`` in bank ``(r + c) % P`` at word ``r * cols / P + c // P``) puts
every chunk of ``P`` weights of a row and of a column in ``P`` different banks;
``SkewedWeights.place`` computes it in gateware; ``to_lanes`` and ``to_banks`` rotate a chunk
between the banks' order and the lanes'. All in the Amaranth simulator, on small matrices.
"""

from __future__ import annotations

import random

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from hdl.skewed_memory import SkewedWeights, log2, to_banks, to_lanes

WIDTH = 8


def placement(r: int, c: int, cols: int, P: int) -> tuple[int, int]:
    """``(bank, word)`` of weight ``(r, c)``: the module's formula, in Python."""
    return (r + c) % P, r * cols // P + c // P


def simulate(dut, testbench, *, clock: bool = False) -> None:
    sim = Simulator(dut)
    if clock:
        sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()


@pytest.mark.parametrize(("rows", "cols", "P"), [(8, 8, 4), (16, 8, 4), (8, 16, 8), (16, 16, 16)])
def test_every_chunk_of_a_row_and_of_a_column_meets_every_bank_once(rows, cols, P):
    places = {(r, c): placement(r, c, cols, P) for r in range(rows) for c in range(cols)}
    # one weight a place, every word of every bank used
    assert sorted(places.values()) == [(b, w) for b in range(P) for w in range(rows * cols // P)]
    for t in range(cols // P):
        for r in range(rows):  # a row's chunk: one word of every bank, column tP + l in bank (l + r) % P
            chunk = [places[r, t * P + lane] for lane in range(P)]
            assert sorted(b for b, _ in chunk) == list(range(P))
            assert {w for _, w in chunk} == {r * cols // P + t}
            assert [b for b, _ in chunk] == [(lane + r) % P for lane in range(P)]
    for t in range(rows // P):
        for c in range(cols):  # a column's chunk: row tP + l in bank (l + c) % P
            chunk = [places[t * P + lane, c] for lane in range(P)]
            assert [b for b, _ in chunk] == [(lane + c) % P for lane in range(P)]
            assert [w for _, w in chunk] == [(t * P + lane) * cols // P + c // P for lane in range(P)]


class Place(wiring.Component):
    """``SkewedWeights.place`` of the address ``addr`` (beside the memory, unused)."""

    def __init__(self, weights: SkewedWeights):
        self.weights = weights
        super().__init__(
            {
                "addr": In(weights.rd.addr.shape()),
                "bank": Out(max(log2(weights.lanes), 1)),
                "word": Out(weights.brd0.addr.shape()),
            }
        )

    def elaborate(self, platform):
        m = Module()
        m.submodules.weights = self.weights
        bank, word = self.weights.place(self.addr)
        m.d.comb += [self.bank.eq(bank), self.word.eq(word)]
        return m


@pytest.mark.parametrize(("rows", "cols", "P"), [(8, 8, 4), (16, 8, 4), (16, 16, 16)])
def test_place_is_the_formula_at_every_address(rows, cols, P):
    dut = Place(SkewedWeights(rows, cols, P, WIDTH))
    got = {}

    async def tb(ctx):
        for addr in range(rows * cols):
            ctx.set(dut.addr, addr)
            got[addr] = (ctx.get(dut.bank), ctx.get(dut.word))

    simulate(dut, tb)
    for r in range(rows):
        for c in range(cols):
            assert got[r * cols + c] == placement(r, c, cols, P), (r, c)


class Rotations(wiring.Component):
    """``to_lanes`` and ``to_banks`` of ``P`` words by ``line`` (wider than ``log2 P`` bits:
    only its low bits count), and each undone by the other."""

    def __init__(self, P: int):
        self.P = P
        super().__init__(
            {
                "words": In(WIDTH).array(P),
                "line": In(6),
                "lanes": Out(WIDTH).array(P),
                "banks": Out(WIDTH).array(P),
                "lanes_back": Out(WIDTH).array(P),
                "banks_back": Out(WIDTH).array(P),
            }
        )

    def elaborate(self, platform):
        m = Module()
        words = list(self.words)
        lanes, banks = to_lanes(words, self.line), to_banks(words, self.line)
        for out, values in (
            (self.lanes, lanes),
            (self.banks, banks),
            (self.lanes_back, to_banks(lanes, self.line)),
            (self.banks_back, to_lanes(banks, self.line)),
        ):
            m.d.comb += [o.eq(v) for o, v in zip(out, values, strict=True)]
        return m


@pytest.mark.parametrize("P", [4, 16])
def test_to_lanes_and_to_banks_rotate_and_undo_each_other(P):
    dut = Rotations(P)
    words = random.Random(P).sample(range(1 << WIDTH), P)
    got = {}

    async def tb(ctx):
        for lane, word in enumerate(words):
            ctx.set(dut.words[lane], word)
        for line in range(1 << 6):
            ctx.set(dut.line, line)
            got[line] = {
                name: [ctx.get(x) for x in getattr(dut, name)]
                for name in ("lanes", "banks", "lanes_back", "banks_back")
            }

    simulate(dut, tb)
    for line, out in got.items():
        # lane l of a chunk of line is bank (l + line) % P
        assert out["lanes"] == [words[(lane + line) % P] for lane in range(P)], line
        assert out["banks"] == [words[(bank - line) % P] for bank in range(P)], line
        assert out["lanes_back"] == words and out["banks_back"] == words, line


class Walker(wiring.Component):
    """A :class:`SkewedWeights` whose banks' read data come out rotated into lanes
    (``to_lanes`` by the ``line`` of the read a cycle before), as the matrix engine reads a chunk;
    ``lane_wr``: the lanes of a chunk to write, rotated into the banks (``to_banks``)."""

    def __init__(self, rows: int, cols: int, P: int):
        self.weights = SkewedWeights(rows, cols, P, WIDTH)
        self.P = P
        super().__init__(
            {
                "line": In(8),
                "lanes": Out(WIDTH).array(P),
                "lane_wr": In(WIDTH).array(P),
                "bank_wr": Out(WIDTH).array(P),
            }
        )

    def elaborate(self, platform):
        m = Module()
        m.submodules.weights = w = self.weights
        line_q = Signal.like(self.line)
        m.d.sync += line_q.eq(self.line)
        data = [getattr(w, f"brd{b}").data for b in range(self.P)]
        m.d.comb += [o.eq(v) for o, v in zip(self.lanes, to_lanes(data, line_q), strict=True)]
        m.d.comb += [
            o.eq(v) for o, v in zip(self.bank_wr, to_banks(list(self.lane_wr), self.line), strict=True)
        ]
        return m


@pytest.mark.parametrize(("rows", "cols", "P"), [(8, 8, 4), (16, 8, 4)])
def test_command_and_bank_ports_read_and_write_every_weight(rows, cols, P):
    """Weights written one at a time by flat address (the command port) come out of the bank
    ports, a row's or a column's chunk a cycle, in lane order; a chunk written through the bank
    ports reads back by flat address (every bank, every word)."""
    rng = random.Random(rows * cols + P)
    dut = Walker(rows, cols, P)
    w = dut.weights
    first = {(r, c): rng.randrange(1 << WIDTH) for r in range(rows) for c in range(cols)}
    second = {key: rng.randrange(1 << WIDTH) for key in first}
    out = {"rows": {}, "cols": {}, "flat": {}}

    async def read_chunk(ctx, line, addrs):
        ctx.set(dut.line, line)
        for b in range(P):
            port = getattr(w, f"brd{b}")
            ctx.set(port.addr, addrs[b])
            ctx.set(port.en, 1)
        await ctx.tick()
        for b in range(P):
            ctx.set(getattr(w, f"brd{b}").en, 0)
        return [ctx.get(x) for x in dut.lanes]

    async def tb(ctx):
        for (r, c), value in first.items():  # the command port, one weight a cycle
            ctx.set(w.wr.addr, r * cols + c)
            ctx.set(w.wr.data, value)
            ctx.set(w.wr.en, 1)
            await ctx.tick()
        ctx.set(w.wr.en, 0)
        for r in range(rows):
            for t in range(cols // P):
                words = [r * cols // P + t] * P
                out["rows"][r, t] = await read_chunk(ctx, r, words)
        for c in range(cols):
            for t in range(rows // P):
                words = [0] * P
                for lane in range(P):
                    bank, word = placement(t * P + lane, c, cols, P)
                    words[bank] = word
                out["cols"][c, t] = await read_chunk(ctx, c, words)
        # the second weights, a row's chunk a cycle through the bank write ports
        for r in range(rows):
            for t in range(cols // P):
                ctx.set(dut.line, r)
                for lane in range(P):
                    ctx.set(dut.lane_wr[lane], second[r, t * P + lane])
                for b in range(P):
                    port = getattr(w, f"bwr{b}")
                    ctx.set(port.addr, r * cols // P + t)
                    ctx.set(port.data, ctx.get(dut.bank_wr[b]))
                    ctx.set(port.en, 1)
                await ctx.tick()
        for b in range(P):
            ctx.set(getattr(w, f"bwr{b}").en, 0)
        for r, c in rng.sample(list(first), len(first)):  # the command port reads them back
            ctx.set(w.rd.addr, r * cols + c)
            ctx.set(w.rd.en, 1)
            await ctx.tick()
            ctx.set(w.rd.en, 0)
            out["flat"][r, c] = ctx.get(w.rd.data)

    simulate(dut, tb, clock=True)
    assert len(out["rows"]) == len(out["cols"]) == rows * cols // P
    for (r, t), lanes in out["rows"].items():
        assert lanes == [first[r, t * P + lane] for lane in range(P)], ("row", r, t)
    for (c, t), lanes in out["cols"].items():
        assert lanes == [first[t * P + lane, c] for lane in range(P)], ("column", c, t)
    assert out["flat"] == second
