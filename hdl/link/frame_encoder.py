"""Frame encoder: appends the CRC-16 and COBS-stuffs a frame, as
:meth:`firmware_host.framing.Frame.encode` does, byte for byte.

COBS needs to know where the next zero is before it sends a block's code byte, so the
encoder holds one block (at most 254 bytes, one block RAM) and sends it when a zero
arrives, when it is full, or at the end of the frame, then the ``0x00`` delimiter.

The block RAM has room to spare above the block (an iCE40 one is 512 x 8): it can hold a
ROM (``rom``, up to 256 bytes from :data:`ROM_BASE` on; the link puts the IDENTIFY reply's
bytes there: 28 fewer iCE40 logic cells than a ROM of its own) that another module reads through
``rom_addr``/``rom_data`` (data one cycle after the address, as a read port) while the
encoder collects. The encoder reads its block only while it sends it, when it takes no body
bytes, so ``rom_data`` then shows the block; after a block it waits one cycle (the settle
cycle: the ROM's address is back on the port) before it takes a body byte again, so a body
byte taken from ``rom_data`` is always the ROM's.
"""

from amaranth.hdl import Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from firmware_host.protocol import DELIMITER
from hdl.block_memory import BlockMemory

from .crc import INIT, crc16_byte

BLOCK = 254  # data bytes of a full COBS block (code 0xFF)
ROM_BASE = 256  # where the ROM starts in the block RAM (a power of two above the block)
BODY = data.StructLayout({"data": unsigned(8), "last": unsigned(1)})


class FrameEncoder(wiring.Component):
    """``body``: the bytes of header and payload, ``last`` on the final one; ``bytes``:
    the encoded frame and its delimiter; with a ``rom``, ``rom_addr`` in and ``rom_data``
    out read it (see the module's docstring)."""

    def __init__(self, rom: bytes = b""):
        if len(rom) > ROM_BASE:
            raise ValueError(f"a ROM of {len(rom)} bytes does not fit beside the block")
        self.rom = bytes(rom)
        ports = {
            "body": In(stream.Signature(BODY)),
            "bytes": Out(stream.Signature(8)),
            "busy": Out(1),
        }
        if rom:
            rom_bits = max(1, ceil_log2(len(rom)))
            ports |= {"rom_addr": In(rom_bits), "rom_data": Out(8)}
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        # filled while collecting, read while sending: never both on one byte; the ROM
        # above the block is only read
        if self.rom:
            init = [0] * ROM_BASE + list(self.rom)
            m.submodules.block = block = BlockMemory(len(init), 8, exclusive=False, init=init)
        else:
            m.submodules.block = block = BlockMemory(BLOCK, 8, exclusive=False)
        wr, rd = block.wr, block.rd
        after_data = Signal()  # the read port's data is the block's, not the ROM's
        if self.rom:
            # the ROM's address but while sending the block (CODE and DATA set it)
            m.d.comb += [rd.addr.eq(ROM_BASE | self.rom_addr), self.rom_data.eq(rd.data)]
        count = Signal(range(BLOCK + 1))  # bytes held
        idx = Signal(range(BLOCK + 1))  # next byte of the block to send
        crc = Signal(16, init=INIT)
        phase = Signal(2)  # 0: body, 1: CRC high byte, 2: CRC low byte, 3: end of frame
        final = Signal()  # this flush ends the frame
        full = Signal()  # this flush is of a full block (code 0xFF, no zero implied)

        def push(byte):
            """Put ``byte`` into the block (inside COLLECT); a zero or a full block flushes it."""
            with m.If(byte == 0):  # the zero ends the block; its code byte says where
                m.d.sync += full.eq(0)
                m.next = "CODE"
            with m.Else():
                m.d.comb += [wr.addr.eq(count), wr.data.eq(byte), wr.en.eq(1)]
                m.d.sync += count.eq(count + 1)
                with m.If(count == BLOCK - 1):
                    m.d.sync += full.eq(1)
                    m.next = "CODE"

        with m.FSM() as fsm:
            with m.State("COLLECT"):
                with m.Switch(phase):
                    with m.Case(0):
                        m.d.comb += self.body.ready.eq(~after_data)
                        with m.If(self.body.valid & ~after_data):
                            push(self.body.payload.data)
                            m.d.sync += crc.eq(crc16_byte(crc, self.body.payload.data))
                            with m.If(self.body.payload.last):
                                m.d.sync += phase.eq(1)
                    with m.Case(1):  # the CRC goes most significant byte first
                        push(crc[8:])
                        m.d.sync += phase.eq(2)
                    with m.Case(2):
                        push(crc[:8])
                        m.d.sync += phase.eq(3)
                    with m.Case(3):
                        m.d.sync += [final.eq(1), full.eq(0)]
                        m.next = "CODE"
            with m.State("CODE"):
                m.d.comb += [
                    self.bytes.valid.eq(1),
                    self.bytes.payload.eq(Mux(full, 0xFF, count + 1)),
                    rd.addr.eq(0),
                ]
                with m.If(self.bytes.ready):
                    m.d.sync += idx.eq(0)
                    m.next = "DATA"
            with m.State("DATA"):
                # rd.addr runs one byte ahead, so rd.data is block[idx]
                done = idx == count
                m.d.comb += [
                    self.bytes.valid.eq(~done),
                    self.bytes.payload.eq(rd.data),
                    rd.addr.eq(Mux(self.bytes.ready & ~done, idx + 1, idx)),
                ]
                with m.If(done):
                    m.d.sync += count.eq(0)
                    m.next = "COLLECT"
                    with m.If(final):
                        m.next = "END"
                with m.Elif(self.bytes.ready):
                    m.d.sync += idx.eq(idx + 1)
            with m.State("END"):
                m.d.comb += [self.bytes.valid.eq(1), self.bytes.payload.eq(DELIMITER[0])]
                with m.If(self.bytes.ready):
                    m.d.sync += [final.eq(0), phase.eq(0), crc.eq(INIT)]
                    m.next = "COLLECT"
        if self.rom:
            m.d.sync += after_data.eq(fsm.ongoing("DATA"))
        m.d.comb += self.busy.eq((phase != 0) | ~fsm.ongoing("COLLECT"))
        return m
