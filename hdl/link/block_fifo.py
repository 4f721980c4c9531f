"""A first-word-fall-through FIFO whose storage is block RAM, not flip-flops.

amaranth's ``SyncFIFO`` reads its storage combinationally, so yosys builds a small one
from flip-flops and a read mux: on the iCE40 UP5K the link's 4 x 27-bit descriptor FIFO
took about 120 flip-flops and 100 LUTs that way. Here the storage is read through a
synchronous port (``ram_style = "block"``: one EBR pair) and the read port's own data
register is the FIFO's output, so only the pointers and a valid flag are logic.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.block_memory import BlockMemory


class BlockFIFO(wiring.Component):
    """``depth`` entries in block RAM plus one at the output (the read port's register).

    Same port names and handshake as :class:`amaranth.lib.fifo.SyncFIFO`: ``w_data`` is
    taken when ``w_en & w_rdy``; ``r_data`` is valid while ``r_rdy``, and ``r_en`` takes it.
    """

    def __init__(self, width: int, depth: int):
        if depth < 2 or depth & (depth - 1):
            raise ValueError(f"BlockFIFO depth must be a power of two >= 2, got {depth}")
        self.width, self.depth = width, depth
        super().__init__(
            {
                "w_data": In(width),
                "w_en": In(1),
                "w_rdy": Out(1),
                "r_data": Out(width),
                "r_rdy": Out(1),
                "r_en": In(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        depth = self.depth
        # never reads the entry being written (fetches only stored entries)
        storage = m.submodules.storage = BlockMemory(
            depth, self.width, exclusive=False, attrs={"ram_style": "block"}
        )
        wr, rd = storage.wr, storage.rd
        w_ptr, r_ptr = Signal(range(depth)), Signal(range(depth))
        level = Signal(range(depth + 1))  # entries in the storage, not counting the output
        do_write = self.w_en & self.w_rdy
        # fetch the oldest stored entry into the read register when the output is free or
        # being taken; an entry written this cycle is not fetched before the next one
        fetch = (level != 0) & (~self.r_rdy | self.r_en)
        m.d.comb += [
            self.w_rdy.eq(level != depth),
            wr.addr.eq(w_ptr),
            wr.data.eq(self.w_data),
            wr.en.eq(do_write),
            rd.addr.eq(r_ptr),
            rd.en.eq(fetch),
            self.r_data.eq(rd.data),
        ]
        with m.If(do_write):
            m.d.sync += w_ptr.eq(w_ptr + 1)
        with m.If(fetch):
            m.d.sync += [r_ptr.eq(r_ptr + 1), self.r_rdy.eq(1)]
        with m.Elif(self.r_en):
            m.d.sync += self.r_rdy.eq(0)
        m.d.sync += level.eq(level + do_write - fetch)
        return m
