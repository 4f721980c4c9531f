"""A simple dual-port memory whose reads and writes never meet.

:class:`ExclusiveMemory` turns its read port off in every cycle that writes the memory (a
read issued then does not happen: the read data holds, as a read port's data does with
``en`` low). So no read ever meets a write of the same word, and the memory says so with
Yosys's ``no_rw_check`` attribute: the FPGA builds then map it to block RAM without the
read-during-write bypass Yosys adds otherwise (see :mod:`hdl.fpga.rtlil`). The engines
that use one never read in a cycle that writes it.
"""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.memory import Memory, ReadPort, WritePort
from amaranth.lib.wiring import Out

from .memories import addr_width

#: Yosys's memory attribute "a read may return don't-care when it meets a write"
NO_RW_CHECK = "no_rw_check"


class ExclusiveMemory(wiring.Component):
    """``depth`` words of ``width`` bits in ``lanes`` write lanes.

    ``rd``: ``addr``/``en`` in, ``data`` out one cycle later (a non-transparent
    :class:`~amaranth.lib.memory.ReadPort`, off while ``wr.en`` has any bit set);
    ``wr``: ``addr``/``data``/``en`` (one bit per lane) in.
    """

    def __init__(self, depth: int, width: int, lanes: int = 1):
        if width % lanes:
            raise ValueError(f"{lanes} lanes do not divide a {width}-bit word")
        self.depth, self.width, self.lanes = depth, width, lanes
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
        mem = m.submodules.mem = Memory(shape=self.width, depth=self.depth, init=[], attrs={NO_RW_CHECK: 1})
        wr = mem.write_port(granularity=self.wr.signature.granularity)
        rd = mem.read_port()
        m.d.comb += [
            wr.addr.eq(self.wr.addr),
            wr.data.eq(self.wr.data),
            wr.en.eq(self.wr.en),
            rd.addr.eq(self.rd.addr),
            rd.en.eq(self.rd.en & ~self.wr.en.any()),
            self.rd.data.eq(rd.data),
        ]
        return m
