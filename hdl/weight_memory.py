"""A weight matrix as ONE single-port memory (the iCE40 UP's SPRAM, or its model elsewhere).

:class:`WeightMemory` has the read and write ports of a simple dual-port memory (the
signatures :func:`hdl.memories.read_port` / :func:`hdl.memories.write_port` give the
engines) but behaves as one single-port RAM: in a cycle with ``wr.en`` high the memory's
address is ``wr.addr`` and the read of that cycle is lost (the read data of the next
cycle is unspecified). Users must never read and write in the same cycle.

- On an iCE40 UP platform (``platform.device`` starts with ``"iCE40UP"``) it is built
  from ``SB_SPRAM256KA`` (16k x 16, one-cycle read latency, nibble write mask): weights of
  up to 8 bits two per word (weight ``a`` in word ``a // 2``, byte ``a % 2``, written
  through the mask ``0b0011``/``0b1100``, read byte chosen by the registered address
  LSB), wider ones one per word; a matrix of more than 16k words takes several SPRAMs,
  selected by the word address MSBs on ``CHIPSELECT`` with a registered output mux.
- Elsewhere (simulation, ECP5, Verilog export) an :class:`hdl.block_memory.BlockMemory`
  with the same single-port behaviour: its read port is disabled in a write cycle (the
  read is lost; the read data keeps its last value), so the simulators run what the
  SPRAM build runs, and block RAM needs no read-during-write bypass.
"""

from __future__ import annotations

from amaranth.hdl import Array, ClockSignal, Instance, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import ReadPort, WritePort
from amaranth.lib.wiring import Out

from .block_memory import BlockMemory
from .memories import addr_width

SPRAM_WORDS = 16 * 1024
SPRAM_BITS = 16


def is_ice40_up(platform) -> bool:
    """Whether ``platform`` is an iCE40 UltraPlus (has SB_SPRAM256KA)."""
    return str(getattr(platform, "device", "")).startswith("iCE40UP")


def spram_count(depth: int, width: int) -> int:
    """SB_SPRAM256KA a ``depth x width`` WeightMemory takes on an iCE40 UP."""
    per_word = 2 if width <= 8 else 1
    words = -(-depth // per_word)
    return -(-words // SPRAM_WORDS)


class WeightMemory(wiring.Component):
    """``depth`` words of ``width`` bits behind one read and one write port, single-ported.

    ``rd``: ``addr``/``en`` in, ``data`` out one cycle later (as a non-transparent
    :class:`~amaranth.lib.memory.ReadPort`); ``wr``: ``addr``/``data``/``en`` in. A write
    takes the memory for its cycle: the read issued in that cycle is lost.
    """

    def __init__(self, depth: int, width: int):
        if width > SPRAM_BITS:
            raise ValueError(f"WeightMemory words are at most {SPRAM_BITS} bits, got {width}")
        self.depth, self.width = depth, width
        aw = addr_width(depth)
        super().__init__(
            {
                "rd": Out(ReadPort.Signature(addr_width=aw, shape=unsigned(width))),
                "wr": Out(WritePort.Signature(addr_width=aw, shape=unsigned(width))),
            }
        )

    def elaborate(self, platform):
        m = Module()
        if is_ice40_up(platform):
            addr = Signal(addr_width(self.depth))
            m.d.comb += addr.eq(Mux(self.wr.en, self.wr.addr, self.rd.addr))
            self._spram(m, addr)
        else:
            # the read is off while writing: the write owns the memory for its cycle
            mem = m.submodules.mem = BlockMemory(self.depth, self.width, exclusive=True)
            wiring.connect(m, wiring.flipped(self.rd), mem.rd)
            wiring.connect(m, wiring.flipped(self.wr), mem.wr)
        return m

    def _spram(self, m, addr):
        width = self.width
        packed = width <= 8
        if packed:
            word, byte = addr[1:], addr[0]
        else:
            word, byte = addr, Signal()
        banks = spram_count(self.depth, width)
        bank = word[14:] if banks > 1 else Signal()
        access = self.wr.en | self.rd.en
        address, datain, mask = Signal(14), Signal(SPRAM_BITS), Signal(4)
        m.d.comb += address.eq(word)
        if packed:
            m.d.comb += [datain.eq(self.wr.data | (self.wr.data << 8)), mask.eq(Mux(byte, 0b1100, 0b0011))]
        else:
            m.d.comb += [datain.eq(self.wr.data), mask.eq(0b1111)]
        outs = []
        for b in range(banks):
            dout = Signal(SPRAM_BITS, name=f"spram{b}_dout")
            m.submodules[f"spram{b}"] = Instance(
                "SB_SPRAM256KA",
                i_ADDRESS=address,
                i_DATAIN=datain,
                i_MASKWREN=mask,
                i_WREN=self.wr.en,
                i_CHIPSELECT=access & (bank == b),
                i_CLOCK=ClockSignal("sync"),
                i_STANDBY=0,
                i_SLEEP=0,
                i_POWEROFF=1,
                o_DATAOUT=dout,
            )
            outs.append(dout)
        # the registered address bits choose the byte and the bank of the data
        byte_q = Signal()
        bank_q = Signal(range(banks))
        with m.If(self.rd.en & ~self.wr.en):
            m.d.sync += [byte_q.eq(byte), bank_q.eq(bank)]
        out = Signal(SPRAM_BITS)
        m.d.comb += out.eq(Array(outs)[bank_q] if banks > 1 else outs[0])
        if packed:
            m.d.comb += self.rd.data.eq(Mux(byte_q, out[8:16], out[0:8])[:width])
        else:
            m.d.comb += self.rd.data.eq(out[:width])
