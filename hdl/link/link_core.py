"""The core behind the protocol, at the byte level: frame decoder, request buffer,
descriptor FIFO, command engine, frame encoder and :class:`hdl.core.Core`.

``rx``/``tx`` carry bytes (no UART): :class:`~hdl.link.board_top.BoardTop` puts the UART
in front, and the RTL bridge (:mod:`hdl.link.rtl_device`) feeds bytes straight in.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, ceil_log2

from firmware_host.protocol import CRC_BYTES
from hdl.block_memory import BlockMemory
from hdl.core import Core
from snn.core_spec import CoreSpec

from .block_fifo import BlockFIFO
from .command_engine import CommandEngine
from .frame_decoder import FrameDecoder
from .frame_encoder import FrameEncoder
from .params import LinkParams
from .request_decoder import NAKS, request_layout


def buffer_depth(spec: CoreSpec, params: LinkParams) -> int:
    """Bytes of the request buffer: ``credits`` longest payloads (and their CRC), rounded up
    to a power of two."""
    need = params.credits * (params.payload_limit(spec) + CRC_BYTES)
    return 1 << ceil_log2(need)


class LinkCore(wiring.Component):
    """Protocol bytes in, protocol bytes out, a core of ``spec`` in between."""

    def __init__(self, spec: CoreSpec, params: LinkParams | None = None):
        self.spec = spec
        self.params = params or LinkParams()
        super().__init__(
            {
                "rx": In(stream.Signature(8)),  # always ready: a UART cannot wait
                "rx_error": In(1),  # a byte was lost on the line
                "tx": Out(stream.Signature(8)),
                "busy": Out(1),  # a received frame is waiting, being executed or answered
                "running": Out(1),  # the core runs freely (RUN)
            }
        )

    def elaborate(self, platform):
        spec, params = self.spec, self.params
        m = Module()
        depth = buffer_depth(spec, params)
        dec = m.submodules.decoder = FrameDecoder(
            depth=depth, max_payload=params.payload_limit(spec), timeout=params.timeout
        )
        # the engine reads ahead of a payload's end, maybe the byte being received: unused
        m.submodules.buffer = buffer = BlockMemory(depth, 8, exclusive=False)
        engine = m.submodules.engine = CommandEngine(spec, params, ptr_bits=dec.ptr_bits)
        layout = request_layout(engine.length_bits)
        # credits + 2 descriptors at least wait (frames NAKed by the decoder take no credit)
        # besides the one being executed, which stays in the FIFO's output until its reply
        slots = 1 << bits_for(params.credits + 1)
        m.submodules.frames = fifo = BlockFIFO(width=layout.size, depth=slots)
        # the FIFO keeps what the engine needs of a descriptor: the status as a 2-bit code,
        # the version as a flag, the length in the bits of max_payload (a longer payload
        # is BAD_LENGTH, whose length goes unused), no start (the engine knows it)
        got = dec.frames.payload
        request = Signal(layout)
        with m.Switch(got.status):
            for i, status in enumerate(NAKS):
                with m.Case(status):
                    m.d.comb += request.nak.eq(i)
        m.d.comb += [
            request.version_ok.eq(got.version_ok),
            request.seq.eq(got.seq),
            request.opcode.eq(got.opcode),
            request.length.eq(got.length),
        ]
        enc = m.submodules.encoder = FrameEncoder(rom=engine.ident_bytes)  # holds the IDENTIFY ROM
        core = m.submodules.core = Core(spec)

        wr, rd = buffer.wr, buffer.rd
        m.d.comb += [
            self.rx.ready.eq(1),
            dec.bytes.valid.eq(self.rx.valid),
            dec.bytes.payload.eq(self.rx.payload),
            dec.error.eq(self.rx_error),
            wr.addr.eq(dec.buffer.addr),
            wr.data.eq(dec.buffer.data),
            wr.en.eq(dec.buffer.en),
            rd.addr.eq(engine.buffer.addr),
            engine.buffer.data.eq(rd.data),
            dec.released.eq(engine.released),
            # descriptors wait in the FIFO while the engine executes earlier frames
            fifo.w_data.eq(request.as_value()),
            fifo.w_en.eq(dec.frames.valid),
            dec.frames.ready.eq(fifo.w_rdy),
            engine.frames.payload.eq(fifo.r_data),
            engine.frames.valid.eq(fifo.r_rdy),
            fifo.r_en.eq(engine.frames.ready),
        ]
        wiring.connect(m, engine.cmd, core.cmd)
        wiring.connect(m, core.resp, engine.resp)
        wiring.connect(m, engine.tx, enc.body)
        m.d.comb += [enc.rom_addr.eq(engine.ident_addr), engine.ident_data.eq(enc.rom_data)]
        wiring.connect(m, enc.bytes, wiring.flipped(self.tx))
        m.d.comb += [
            self.busy.eq(fifo.r_rdy | engine.busy | enc.busy | enc.bytes.valid),
            self.running.eq(engine.running),
        ]
        return m
