"""A weight matrix in single-port memory (the iCE40 UP's SPRAM, or its model elsewhere).

:class:`WeightMemory` has the read and write ports of a simple dual-port memory (the
signatures :func:`hdl.memories.read_port` / :func:`hdl.memories.write_port` give the
engines) but is built from single-port RAM. With a row ``stride`` that is a power of two
(the core's ``max_neurons``: weight ``a`` is row ``a >> L``, column ``a % 2^L``) it is two
single-port **banks**, weight ``a`` in bank ``a[0] ^ a[L]`` (row parity xor column parity,
a checkerboard): a read and a write in one cycle both happen when they fall in different
banks, as those of two synapses an odd number of positions apart along a row or a column
always do (the learning engine's walks: a read per cycle, each written back 3 cycles
later). In a cycle whose read and write fall in the same bank (or always, without
``stride``: one bank) the write takes the memory and the read is lost (its read data of
the next cycle is unspecified). Users must never use such a read.

- On an iCE40 UP platform (``platform.device`` starts with ``"iCE40UP"``) each bank is
  built from ``SB_SPRAM256KA`` (16k x 16, one-cycle read latency, nibble write mask):
  weights of up to 8 bits two per word (banked: the two rows ``2R``, ``2R + 1`` of the word's
  columns, byte ``a[L]``; one bank: weight ``a`` in word ``a // 2``, byte ``a % 2``), written
  through the mask ``0b0011``/``0b1100``, the read byte chosen by the registered address
  bit; wider weights one per word; a bank of more than 16k words takes several SPRAMs,
  selected by the word address MSBs on ``CHIPSELECT`` with a registered output mux.
- ``pair=True`` (two banks only) adds a read port ``rdp`` for propagation: the two weights
  ``(r, 2c)`` and ``(r, 2c + 1)``, which sit at the same place in the two banks, at pair
  address ``(r * stride + 2c) / 2``, read in one cycle (``data``: the even column's weight
  in the low half). While ``rdp.en`` is high it owns both banks: nobody may read or write
  through ``rd``/``wr`` then.
- ``walk=True`` (two banks, block RAM only: two lanes' learning engines) adds each bank's
  own ports, ``brd0``/``brd1`` (read) and ``bwr0``/``bwr1`` (write), addressed inside the
  bank (address ``a >> 1`` of weight ``a``): a walk of two synapses a cycle reads both
  banks and writes both banks in one cycle, at other words (simple dual-port block RAM).
  While a bank port is enabled it owns that side of its bank (no ``rd``/``wr``/``rdp``
  access then). The iCE40 UP's SPRAM is single-port: no ``walk`` there.
- Elsewhere (simulation, ECP5, Verilog export) one :class:`hdl.block_memory.BlockMemory`
  per bank with the same behaviour: its read port is disabled in a cycle that writes it
  (the read is lost; the read data keeps its last value), so the simulators run what the
  SPRAM build runs, and block RAM needs no read-during-write bypass. With ``walk`` a bank
  is read while another of its words is written (``BlockMemory(exclusive=False)``: in
  simulation a read that meets a write of its own word returns it inverted), except
  through ``rd``, whose read of a bank being written is still lost.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, ClockSignal, Const, Instance, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import ReadPort, WritePort
from amaranth.lib.wiring import In, Out

from .block_memory import BlockMemory
from .memories import addr_width

SPRAM_WORDS = 16 * 1024
SPRAM_BITS = 16


def is_ice40_up(platform) -> bool:
    """Whether ``platform`` is an iCE40 UltraPlus (has SB_SPRAM256KA)."""
    return str(getattr(platform, "device", "")).startswith("iCE40UP")


def banked(stride: int | None) -> bool:
    """Whether a matrix of row length ``stride`` is stored in two checkerboard banks."""
    return stride is not None and stride >= 2 and stride & (stride - 1) == 0


def spram_count(depth: int, width: int, stride: int | None = None) -> int:
    """SB_SPRAM256KA a ``depth x width`` WeightMemory (row length ``stride``) takes on an iCE40 UP."""
    per_word = 2 if width <= 8 else 1
    banks = 2 if banked(stride) else 1
    weights = -(-depth // banks)  # per bank
    words = -(-weights // per_word)
    return banks * -(-words // SPRAM_WORDS)


class WeightMemory(wiring.Component):
    """``depth`` words of ``width`` bits behind one read and one write port, in single-port banks.

    ``rd``: ``addr``/``en`` in, ``data`` out one cycle later (as a non-transparent
    :class:`~amaranth.lib.memory.ReadPort`); ``wr``: ``addr``/``data``/``en`` in. A write
    takes its bank for its cycle: a read of the same bank issued then is lost. ``stride``:
    the row length, a power of two for two banks (see the module's docstring).
    """

    def __init__(
        self,
        depth: int,
        width: int,
        stride: int | None = None,
        *,
        pair: bool = False,
        shared=False,
        walk: bool = False,
    ):
        if width > SPRAM_BITS:
            raise ValueError(f"WeightMemory words are at most {SPRAM_BITS} bits, got {width}")
        self.depth, self.width = depth, width
        self.banks = 2 if banked(stride) else 1
        if pair and self.banks != 2:
            raise ValueError("pair reads need two banks (a power-of-two row stride)")
        if walk and self.banks != 2:
            raise ValueError("walks of two synapses need two banks (a power-of-two row stride)")
        self.pair, self.walk = pair, walk
        self.row_bit = (stride.bit_length() - 1) if self.banks == 2 else None
        aw = addr_width(depth)
        members = {
            "rd": Out(ReadPort.Signature(addr_width=aw, shape=unsigned(width))),
            "wr": Out(WritePort.Signature(addr_width=aw, shape=unsigned(width))),
        }
        if pair:
            members["rdp"] = Out(ReadPort.Signature(addr_width=aw - 1, shape=unsigned(2 * width)))
        if walk:  # each bank's own ports (address inside the bank)
            bw = addr_width(-(-depth // 2))
            for b in range(2):
                members[f"brd{b}"] = Out(ReadPort.Signature(addr_width=bw, shape=unsigned(width)))
                members[f"bwr{b}"] = Out(WritePort.Signature(addr_width=bw, shape=unsigned(width)))
        # ``shared``: ``wr_busy`` says a write happens at ``wr.addr`` in this or another memory
        # with the same addresses (the core's other matrix, whose writes go to one of the two
        # at a time): a bank that either writes takes the write address, so the two
        # memories' address multiplexers are the same logic (merged by the synthesis) and a
        # read of that bank is lost
        self.shared = shared
        if shared:
            members["wr_busy"] = In(1)
        super().__init__(members)

    def _busy(self):
        return self.wr_busy if self.shared else self.wr.en

    def _pair_data(self, m, bank_outs):
        """``rdp.data`` from the banks' read data (width bits each): the even column's weight
        is in the bank of the row's parity, registered with the read."""
        if not self.pair:
            return
        parity_q = Signal()
        with m.If(self.rdp.en):
            m.d.sync += parity_q.eq(self.rdp.addr[self.row_bit - 1])
        lo, hi = bank_outs
        m.d.comb += self.rdp.data.eq(Cat(Mux(parity_q, hi, lo), Mux(parity_q, lo, hi)))

    def bank_of(self, addr):
        """The bank of address ``addr`` (a value): row parity xor column parity."""
        if self.banks == 1:
            return Signal()
        return addr[0] ^ addr[self.row_bit]

    def elaborate(self, platform):
        if self.walk and is_ice40_up(platform):
            raise ValueError("walks of two synapses a cycle need simple dual-port block RAM, not SPRAM")
        m = Module()
        rbank, wbank = self.bank_of(self.rd.addr), self.bank_of(self.wr.addr)
        if is_ice40_up(platform):
            self._spram(m, rbank, wbank)
            return m
        # the read of a bank is off while it is written: the write owns it for its cycle
        depth = -(-self.depth // self.banks)
        outs = []
        for b in range(self.banks):
            mem = m.submodules[f"bank{b}"] = BlockMemory(depth, self.width, exclusive=not self.walk)
            inner = (lambda a: a[1:]) if self.banks == 2 else (lambda a: a)
            rd_addr, wr_addr, wr_data = inner(self.rd.addr), inner(self.wr.addr), self.wr.data
            reads = self.rd.en & (rbank == b)
            if self.shared:
                reads &= ~(self.wr_busy & (wbank == b))
            writes = self.wr.en & (wbank == b)
            if self.walk:  # the bank's own ports (a walk), else ``rd``/``wr``
                brd, bwr = getattr(self, f"brd{b}"), getattr(self, f"bwr{b}")
                rd_addr = Mux(brd.en, brd.addr, rd_addr)
                wr_addr, wr_data = Mux(bwr.en, bwr.addr, wr_addr), Mux(bwr.en, bwr.data, wr_data)
                # ``rd``'s read of a bank being written is lost, as without ``walk``
                reads = brd.en | (reads & ~writes)
                writes = bwr.en | writes
                m.d.comb += brd.data.eq(mem.rd.data)
            if self.pair:  # a pair read: both banks at the pair address
                rd_addr, reads = Mux(self.rdp.en, self.rdp.addr, rd_addr), self.rdp.en | reads
            m.d.comb += [
                mem.rd.addr.eq(rd_addr),
                mem.rd.en.eq(reads),
                mem.wr.addr.eq(wr_addr),
                mem.wr.data.eq(wr_data),
                mem.wr.en.eq(writes),
            ]
            outs.append(mem.rd.data)
        self._pair_data(m, outs)
        if self.banks == 1:
            m.d.comb += self.rd.data.eq(outs[0])
        else:
            bank_q = Signal()
            with m.If(self.rd.en):
                m.d.sync += bank_q.eq(rbank)
            m.d.comb += self.rd.data.eq(Mux(bank_q, outs[1], outs[0]))
        return m

    def _place(self, addr):
        """``(word, byte)`` of ``addr`` inside its bank (``byte``: the half of a packed word)."""
        if self.width > 8:
            return (addr[1:] if self.banks == 2 else addr), Signal()
        if self.banks == 1:
            return addr[1:], addr[0]
        row = self.row_bit
        return Cat(addr[1:row], addr[row + 1 :]), addr[row]

    def _spram(self, m, rbank, wbank):
        width = self.width
        packed = width <= 8
        rword, rbyte = self._place(self.rd.addr)
        wword, wbyte = self._place(self.wr.addr)
        if self.pair:  # the pair address is the even column's address without its bit 0
            pword, pbyte = self._place(Cat(Const(0, 1), self.rdp.addr))
            rword = Mux(self.rdp.en, pword, rword)
            rbyte = Mux(self.rdp.en, pbyte, rbyte)
        per_bank = spram_count(self.depth, width, 2 if self.banks == 2 else None) // self.banks
        datain, mask = Signal(SPRAM_BITS), Signal(4)
        if packed:
            m.d.comb += [datain.eq(self.wr.data | (self.wr.data << 8)), mask.eq(Mux(wbyte, 0b1100, 0b0011))]
        else:
            m.d.comb += [datain.eq(self.wr.data), mask.eq(0b1111)]
        outs = []
        for b in range(self.banks):
            writes = self.wr.en & (wbank == b)
            reads = self.rd.en & (rbank == b)
            if self.pair:
                reads = reads | self.rdp.en
            word = Signal(len(wword), name=f"bank{b}_word")
            m.d.comb += word.eq(Mux(self._busy() & (wbank == b), wword, rword))
            sub = word[14:] if per_bank > 1 else Signal()
            for s in range(per_bank):
                dout = Signal(SPRAM_BITS, name=f"spram{b}_{s}_dout")
                m.submodules[f"spram{b}_{s}"] = Instance(
                    "SB_SPRAM256KA",
                    i_ADDRESS=word[:14],
                    i_DATAIN=datain,
                    i_MASKWREN=mask,
                    i_WREN=writes,
                    i_CHIPSELECT=(writes | reads) & (sub == s),
                    i_CLOCK=ClockSignal("sync"),
                    i_STANDBY=0,
                    i_SLEEP=0,
                    i_POWEROFF=1,
                    o_DATAOUT=dout,
                )
                outs.append(dout)
        # the registered address bits of the read choose the bank, SPRAM and byte of the data
        rsub = rword[14:] if per_bank > 1 else Signal()
        which = Signal(range(len(outs)))
        byte_q = Signal()
        lost = self._busy() & (wbank == rbank)
        with m.If(self.rd.en & ~lost):
            m.d.sync += [which.eq(rbank * per_bank + rsub), byte_q.eq(rbyte)]
        out = Signal(SPRAM_BITS)
        m.d.comb += out.eq(Array(outs)[which] if len(outs) > 1 else outs[0])

        def pick(word):
            return Mux(byte_q, word[8:16], word[0:8])[:width] if packed else word[:width]

        m.d.comb += self.rd.data.eq(pick(out))
        if self.pair:  # the word of each bank (its SPRAM by the registered address bits)
            sub_q = Signal(range(per_bank))
            with m.If(self.rdp.en):
                m.d.sync += [sub_q.eq(rsub), byte_q.eq(rbyte)]
            banks_out = [
                pick(
                    Array(outs[b * per_bank : (b + 1) * per_bank])[sub_q]
                    if per_bank > 1
                    else outs[b * per_bank]
                )
                for b in range(2)
            ]
            self._pair_data(m, banks_out)
