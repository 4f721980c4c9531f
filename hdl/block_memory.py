"""Block RAM whose reads never use a word written in the same cycle.

Yosys maps an Amaranth read port as its RTLIL asks: a non-transparent port must return
the *old* word when it reads the word being written, a transparent one the new word, and
iCE40 and ECP5 block RAMs do neither, so Yosys adds logic for it (a delayed write and a
bypass: ~130 iCE40 cells for a 256 x 36 memory). None of that is needed when no read ever
*uses* a word written in its cycle. :class:`BlockMemory` says so with Yosys's own memory
attribute ``no_rw_check`` (the FPGA builds turn it into "don't-care on collision" for its
read port: :mod:`hdl.fpga.rtlil`), and makes the promise checkable:

- ``exclusive=True``: the read port is off in every cycle that writes the memory (the read
  issued then does not happen; the read data holds), so no read meets a write at all;
- ``exclusive=False``: reads go on while other words are written; a read that meets a
  write of its own word returns, in simulation (no platform: the Amaranth simulator and the
  Verilog that cocotb runs), that word with every bit inverted: the bit-exact tests fail if
  any engine used such a read. Builds for a board have no such logic.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory, ReadPort, WritePort
from amaranth.lib.wiring import Out

from .memories import addr_width

#: Yosys's memory attribute "a read may return don't-care when it meets a write"
NO_RW_CHECK = "no_rw_check"


class BlockMemory(wiring.Component):
    """``depth`` words of ``width`` bits in ``lanes`` write lanes.

    ``rd``: ``addr``/``en`` in, ``data`` out one cycle later (as a non-transparent
    :class:`~amaranth.lib.memory.ReadPort`; with ``exclusive`` off while ``wr.en`` has any
    bit set); ``wr``: ``addr``/``data``/``en`` (one bit per lane) in. ``attrs``: more
    attributes of the memory (e.g. ``ram_style``). ``init``: the first words' initial
    values (the rest are 0).
    """

    def __init__(self, depth: int, width: int, lanes: int = 1, *, exclusive: bool, attrs=None, init=()):
        if width % lanes:
            raise ValueError(f"{lanes} lanes do not divide a {width}-bit word")
        self.depth, self.width, self.lanes, self.exclusive = depth, width, lanes, exclusive
        self.attrs = {**(attrs or {}), NO_RW_CHECK: 1}
        self.init = list(init)
        if len(self.init) > depth:
            raise ValueError(f"{len(self.init)} initial words for a memory of {depth}")
        aw = addr_width(depth)
        super().__init__(
            {
                "rd": Out(ReadPort.Signature(addr_width=aw, shape=width)),
                "wr": Out(
                    WritePort.Signature(
                        addr_width=aw, shape=width, granularity=None if lanes == 1 else width // lanes
                    )
                ),
            }
        )

    def elaborate(self, platform):
        m = Module()
        mem = m.submodules.mem = Memory(shape=self.width, depth=self.depth, init=self.init, attrs=self.attrs)
        wr = mem.write_port(granularity=self.wr.signature.granularity)
        rd = mem.read_port()
        writing = wr.en.any()
        m.d.comb += [
            wr.addr.eq(self.wr.addr),
            wr.data.eq(self.wr.data),
            wr.en.eq(self.wr.en),
            rd.addr.eq(self.rd.addr),
            rd.en.eq(self.rd.en & ~writing if self.exclusive else self.rd.en),
        ]
        if self.exclusive or platform is not None:
            m.d.comb += self.rd.data.eq(rd.data)
        else:
            collided = Signal()  # the data on the read port met a write of its word
            with m.If(rd.en):
                m.d.sync += collided.eq(writing & (rd.addr == wr.addr))
            m.d.comb += self.rd.data.eq(Mux(collided, ~rd.data, rd.data))
        return m
