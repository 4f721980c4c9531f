"""A weight matrix in ``P`` skewed block-RAM banks: ``P`` synapses of a row *or* a column a cycle.

The wide core (``CoreSpec.lanes`` ``P`` in 4, 8, 16) walks rows (propagation and
depression) and columns (potentiation) ``P`` synapses at a time. Weight ``(r, c)`` of a
matrix with ``cols`` columns (a power of two) lives in bank ``(r + c) % P`` at word
``r * cols / P + c // P``:

- the chunk ``t`` of row ``r`` (columns ``tP .. tP + P - 1``) is word ``r * cols / P + t`` of
  every bank, column ``tP + l`` in bank ``(l + r) % P``;
- the chunk ``t`` of column ``c`` (rows ``tP .. tP + P - 1``) has row ``tP + l`` in bank
  ``(l + c) % P`` at word ``(tP + l) * cols / P + c // P``.

So both walks meet every bank once a chunk, and lane ``l`` of a chunk is bank
``(l + line) % P`` (``line``: the row or column walked): :func:`to_lanes` and
:func:`to_banks` rotate the words between the banks' order and the lanes'.

:class:`SkewedWeights` has each bank's own read and write ports (``brd{b}``, ``bwr{b}``:
the engine's, used in one cycle at other words: simple dual-port block RAM) and one read
and one write port by flat address ``r * cols + c`` (``rd``, ``wr``: the command path's,
one weight at a time, used only while no bank port is).
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import ReadPort, WritePort
from amaranth.lib.wiring import Out

from .block_memory import BlockMemory
from .memories import addr_width


def log2(x: int) -> int:
    """``log2`` of a power of two."""
    if x < 1 or x & (x - 1):
        raise ValueError(f"{x} is not a power of two")
    return x.bit_length() - 1


def rotate(words: list, amount, *, back: bool = False) -> list:
    """``out[l] = words[(l + amount) % P]`` (``back``: ``words[(l - amount) % P]``), a barrel
    rotator of ``log2 P`` rows of multiplexers (``amount``: a value of at least ``log2 P`` bits)."""
    P = len(words)
    out = list(words)
    for i in range(log2(P)):
        step = -(1 << i) if back else 1 << i
        out = [Mux(amount[i], out[(lane + step) % P], out[lane]) for lane in range(P)]
    return out


def to_lanes(bank_words: list, line) -> list:
    """The lanes of a chunk of row or column ``line`` from its banks' words."""
    return rotate(bank_words, line)


def to_banks(lane_words: list, line) -> list:
    """The banks' words of a chunk of row or column ``line`` from its lanes."""
    return rotate(lane_words, line, back=True)


class SkewedWeights(wiring.Component):
    """``rows x cols`` weights of ``width`` bits in ``lanes`` skewed banks (see the module)."""

    def __init__(self, rows: int, cols: int, lanes: int, width: int):
        for x in (lanes, cols):
            log2(x)  # (raises unless a power of two)
        if rows % lanes or cols % lanes:
            raise ValueError(
                f"{lanes} lanes need rows and columns in multiples of {lanes}, got {rows} x {cols}"
            )
        self.rows, self.cols, self.lanes, self.width = rows, cols, lanes, width
        self.bank_depth = rows * cols // lanes
        bw, aw = addr_width(self.bank_depth), addr_width(rows * cols)
        members = {
            "rd": Out(ReadPort.Signature(addr_width=aw, shape=unsigned(width))),
            "wr": Out(WritePort.Signature(addr_width=aw, shape=unsigned(width))),
        }
        for b in range(lanes):
            members[f"brd{b}"] = Out(ReadPort.Signature(addr_width=bw, shape=unsigned(width)))
            members[f"bwr{b}"] = Out(WritePort.Signature(addr_width=bw, shape=unsigned(width)))
        super().__init__(members)

    def place(self, addr):
        """``(bank, word)`` of the weight at flat address ``addr`` (bit fields: no arithmetic
        but the bank's ``log2 P``-bit sum)."""
        lp, lc = log2(self.lanes), log2(self.cols)
        row, col = addr[lc:], addr[:lc]
        return (row + col)[:lp] if lp else Signal(), Cat(col[lp:], row)

    def elaborate(self, platform):
        m = Module()
        rbank, rword = self.place(self.rd.addr)
        wbank, wword = self.place(self.wr.addr)
        outs = []
        for b in range(self.lanes):
            mem = m.submodules[f"bank{b}"] = BlockMemory(self.bank_depth, self.width, exclusive=False)
            brd, bwr = getattr(self, f"brd{b}"), getattr(self, f"bwr{b}")
            mine_r, mine_w = rbank == b, wbank == b
            with m.If(brd.en):
                m.d.comb += [mem.rd.addr.eq(brd.addr), mem.rd.en.eq(1)]
            with m.Else():
                m.d.comb += [mem.rd.addr.eq(rword), mem.rd.en.eq(self.rd.en & mine_r)]
            with m.If(bwr.en):
                m.d.comb += [mem.wr.addr.eq(bwr.addr), mem.wr.data.eq(bwr.data), mem.wr.en.eq(1)]
            with m.Else():
                m.d.comb += [
                    mem.wr.addr.eq(wword),
                    mem.wr.data.eq(self.wr.data),
                    mem.wr.en.eq(self.wr.en & mine_w),
                ]
            m.d.comb += brd.data.eq(mem.rd.data)
            outs.append(mem.rd.data)
        bank_q = Signal.like(rbank)
        with m.If(self.rd.en):
            m.d.sync += bank_q.eq(rbank)
        m.d.comb += self.rd.data.eq(Array(outs)[bank_q])
        return m
