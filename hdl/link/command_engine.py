"""Command engine: executes protocol frames on the core's command stream and answers them.

It takes frame descriptors from the decoder (payloads in the request buffer), runs each
request as :class:`firmware_host.device_model.DeviceModel` does, with the same checks in
the same order and the same status codes, and sends every reply and every SPIKES_OUT
record to the frame encoder. Frames are executed one at a time, in order.

What the engine keeps besides the core (docs/protocol.md, "Gateware"):

- the input buffer: one bit per input for each of ``input_depth`` timesteps; before each
  timestep the engine sends the core an ``INPUT`` per set bit (each source once, however
  often a SPIKES_IN repeated it) and clears them;
- the spike record of the last timestep with output spikes (``spike_log`` = 1), the
  record counter, the sticky and pending flags;
- the sequence number of the last run-state command (DUPLICATE), the running flag.

Differences from the model: READ while running is BUSY (the core serves memory only
between timesteps), a free run is paced by the UART (a record waits for the line instead
of being dropped), and the spike log holds one record.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory, ReadPort
from amaranth.lib.wiring import In, Out

from firmware_host.memory_map import CONFIG_REGIONS, Control, Region, region_size
from firmware_host.protocol import (
    ADDRESS,
    EXECUTE_ONCE,
    HEADER,
    IDENTITY,
    PROTOCOL_VERSION,
    REPLY,
    SPIKES_IN,
    SPIKES_RESEND,
    STEP,
    STEP_REPLY,
    Opcode,
    SpikeFlag,
    Status,
)
from hdl.commands import Op, Resp, command_layout, response_layout
from snn.core_spec import CoreSpec

from .frame_decoder import frame_layout
from .frame_encoder import BODY
from .params import LinkParams, identity
from .wire_words import in_range, word_format

PREFIX = 16  # bytes: header, status and credits, and the longest fixed reply data (a record head)


def _bytes(value, n: int) -> Value:
    """``value`` as exactly ``n`` bytes (truncated or zero-extended)."""
    if isinstance(value, int):
        return Const(value & ((1 << 8 * n) - 1), 8 * n)
    bits = Value.cast(value)[: 8 * n]
    return Cat(bits, Const(0, 8 * n - len(bits))) if len(bits) < 8 * n else bits


def _pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


class CommandEngine(wiring.Component):
    """Protocol frames in (``frames`` + the request ``buffer``), core commands out
    (``cmd``/``resp``), reply bodies out (``tx``, to the frame encoder)."""

    def __init__(self, spec: CoreSpec, params: LinkParams, *, ptr_bits: int):
        self.spec, self.params, self.ptr_bits = spec, params, ptr_bits
        self.identity = identity(spec, params)
        if params.input_depth < 2 or params.input_depth & (params.input_depth - 1):
            raise ValueError(f"input_depth must be a power of two >= 2, got {params.input_depth}")
        super().__init__(
            {
                "frames": In(stream.Signature(frame_layout(ptr_bits))),
                "buffer": In(ReadPort.Signature(addr_width=ptr_bits - 1, shape=8)),
                "released": Out(ptr_bits),
                "cmd": Out(stream.Signature(command_layout(spec))),
                "resp": In(stream.Signature(response_layout(spec))),
                "tx": Out(stream.Signature(BODY)),
                "busy": Out(1),  # a frame or a STEP is being executed
                "running": Out(1),  # a free run (RUN)
            }
        )

    def elaborate(self, platform):
        spec, params = self.spec, self.params
        k, n, depth = spec.max_inputs, spec.max_neurons, params.input_depth
        k2 = _pow2(max(k, 2))  # the input bitmap holds k2 bits per timestep
        m = Module()

        # -- memories: IDENTIFY ROM, input bitmap, last spike record ------------------------
        ident_bytes = list(self.identity.pack())
        m.submodules.ident = ident = Memory(shape=8, depth=len(ident_bytes), init=ident_bytes)
        ident_rd = ident.read_port()
        m.submodules.inputs = bits = Memory(shape=1, depth=depth * k2, init=[])
        bits_rd, bits_wr = bits.read_port(), bits.write_port()
        m.submodules.record = record = Memory(shape=16, depth=n, init=[])
        rec_rd, rec_wr = record.read_port(), record.write_port()

        # -- request: descriptor, payload bytes, parsed fields --------------------------------
        desc = Signal(frame_layout(self.ptr_bits))
        off = Signal(16)  # payload byte offset; the buffer reads one ahead, so byte = payload[off]
        off_next = Signal(16)
        accept = Signal()
        m.d.comb += off_next.eq(off)
        m.d.sync += off.eq(off_next)
        start = Mux(accept, self.frames.payload.start, desc.start)
        m.d.comb += self.buffer.addr.eq(start + off_next)
        byte = self.buffer.data
        hdr = Signal(8 * ADDRESS.size)  # the first bytes of the payload
        length = desc.length
        region, index, count = hdr[0:8], hdr[8:40], hdr[40:56]  # ADDRESS
        steps = hdr[0:32]  # STEP
        spk_t, spk_count = hdr[0:32], hdr[32:48]  # SPIKES_IN
        resend = hdr[0:16]  # SPIKES_RESEND

        # -- state ----------------------------------------------------------------------------
        running = Signal()
        stepping = Signal()  # a STEP request is being executed: its reply is due when steps_left is 0
        steps_left = Signal(32)
        now = Signal(32)  # timestep of the core (steps done since RESET_STATE)
        next_feed = Signal(32)  # first timestep whose inputs have not gone to the core
        records = Signal(16)
        flags, pending_flags = Signal(8), Signal(8)
        last_once, last_once_valid = Signal(8), Signal()
        scount = Signal(range(n + 1))  # spikes of the running timestep, in the record memory
        have_record = Signal()
        rec_counter, rec_t, rec_flags, rec_count = Signal(16), Signal(32), Signal(8), Signal(range(n + 1))

        # -- word loop (WRITE and READ words, SPIKES_IN indices) -----------------------------------
        widx = Signal(16)  # word number
        bidx = Signal(3)  # byte in the word
        word = Signal(32)
        value = Signal(32)  # the completed word
        total = Signal(17)  # wire bytes of the words
        mode = Signal(2)
        W_CHECK, W_COMMIT, S_CHECK, S_SET = range(4)
        bad_value, bad_status = Signal(), Signal(8)  # width errors; the first CONTROL error
        cur = Signal(33)
        m.d.comb += cur.eq(index + widx)
        nbytes, check, signed = word_format(m, spec, region, cur[:4])
        in_map = in_range(m, spec, region, index, count)
        wbytes = Mux(mode >= S_CHECK, 2, nbytes)

        # -- reply: a prefix of fixed bytes, then a tail ------------------------------------------
        prefix = Signal(8 * PREFIX)
        plen = Signal(range(PREFIX + 1))
        pidx = Signal(range(PREFIX + 1))
        tail = Signal(2)
        T_NONE, T_IDENT, T_READ, T_SPIKES = range(4)
        tail_len = Signal(16)
        tidx = Signal(16)
        tidx_next = Signal(16)
        m.d.comb += tidx_next.eq(tidx)
        m.d.sync += tidx.eq(tidx_next)
        m.d.comb += [ident_rd.addr.eq(tidx_next), rec_rd.addr.eq(tidx_next >> 1)]
        after = Signal(2)
        A_IDLE, A_STEP_DONE = range(2)

        def fields(*items):
            """Little-endian bytes of ``(value, nbytes)`` items."""
            return Cat(*[_bytes(v, b) for v, b in items])

        def send_frame(seq, opcode, data_items, tail_kind=T_NONE, tail_bytes=0, then=A_IDLE):
            """Start sending a frame: header, ``data_items`` and a tail (goes to EMIT)."""
            nfixed = sum(b for _, b in data_items)
            head = fields((PROTOCOL_VERSION, 1), (seq, 1), (opcode, 1))
            m.d.sync += [
                prefix.eq(Cat(head, fields((Const(nfixed, 16) + tail_bytes, 2)), fields(*data_items))),
                plen.eq(HEADER.size + nfixed),
                pidx.eq(0),
                tail.eq(tail_kind),
                tail_len.eq(tail_bytes),
                after.eq(then),
            ]
            m.d.comb += tidx_next.eq(0)
            m.next = "EMIT"

        def reply(status, data_items=(), tail_kind=T_NONE, tail_bytes=0):
            """Answer the current request (and give its payload's buffer space back)."""
            items = [(status, 1), (params.credits, 1), *data_items]
            send_frame(desc.seq, desc.opcode | REPLY, items, tail_kind, tail_bytes)
            with m.If(desc.status == Status.OK):
                m.d.sync += self.released.eq(desc.start + desc.length)

        def step_reply(status):
            reply(status, [(now, STEP_REPLY.size - 2), (records, 2)])

        def command(op, region_=0, index_=0, data=0):
            payload = self.cmd.payload
            m.d.comb += [
                self.cmd.valid.eq(1),
                payload.op.eq(op),
                payload.region.eq(region_),
                payload.index.eq(index_),
                payload.data.eq(data),
            ]

        # feeding the inputs of timestep next_feed to the core, then continuing
        cont = Signal(2)
        C_STEP, C_RUN, C_ACK = range(3)
        bit_i = Signal(range(k2 + 1))
        bit_i_next = Signal(range(k2 + 1))
        slot = Signal(range(depth))
        m.d.comb += bit_i_next.eq(bit_i)
        m.d.sync += bit_i.eq(bit_i_next)
        kbits = (k2 - 1).bit_length()  # k2 >= 2

        def bit_addr(i):
            """Address of input ``i``'s bit in the current slot."""
            return Cat(i[:kbits], slot)

        m.d.comb += bits_rd.addr.eq(bit_addr(bit_i_next))

        def feed(then):
            m.d.sync += [cont.eq(then), slot.eq(next_feed[: max(1, (depth - 1).bit_length())])]
            m.next = "FEED_START"

        # clearing the input bitmap (one slot, or all), then continuing to CLEARED
        clr_addr = Signal(range(depth * k2 + 1))
        clr_end = Signal(range(depth * k2 + 1))

        # CLEAR_CONFIG walk
        cfg_r = Signal(range(len(CONFIG_REGIONS) + 1))
        cfg_i = Signal(32)
        cfg_region, cfg_size = Signal(4), Signal(32)
        with m.Switch(cfg_r):
            for i, r in enumerate(CONFIG_REGIONS):
                size = region_size(spec, r) - (1 if r is Region.CONTROL else 0)  # keep STEP_COUNT
                with m.Case(i):
                    m.d.comb += [cfg_region.eq(r), cfg_size.eq(size)]

        # CONTROL limits (DeviceModel._check_control)
        limit = Signal(32)
        with m.Switch(cur[:2]):
            with m.Case(Control.WEIGHT_SHIFT):
                m.d.comb += limit.eq(spec.max_weight_shift)
            with m.Case(Control.N_INPUTS):
                m.d.comb += limit.eq(spec.max_inputs)
            with m.Case(Control.N_NEURONS):
                m.d.comb += limit.eq(spec.max_neurons)

        m.d.comb += [
            rec_wr.addr.eq(scount),
            rec_wr.data.eq(self.resp.payload.index),
        ]
        opcode = desc.opcode

        def dispatch():
            """A frame that passed the generic checks: the opcode's own checks, in
            DeviceModel's order, then its first state."""

            with m.Switch(opcode):
                with m.Case(Opcode.IDENTIFY):
                    with m.If(length != 0):
                        reply(Status.BAD_LENGTH)
                    with m.Else():
                        m.d.sync += last_once_valid.eq(0)  # a new session
                        reply(Status.OK, (), T_IDENT, IDENTITY.size)
                with m.Case(Opcode.STATUS):
                    with m.If(length != 0):
                        reply(Status.BAD_LENGTH)
                    with m.Else():
                        reply(
                            Status.OK,
                            [(running, 1), (now, 4), (records, 2), (flags, 1)],
                        )
                with m.Case(Opcode.WRITE, Opcode.READ):
                    with m.If(length < ADDRESS.size):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(~in_map):
                        reply(Status.ADDRESS_OUT_OF_RANGE)
                    with m.Elif((opcode == Opcode.READ) & (length != ADDRESS.size)):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(running):
                        reply(Status.BUSY)
                    with m.Else():
                        m.d.sync += [
                            widx.eq(0),
                            total.eq(0),
                            bad_value.eq(0),
                            bad_status.eq(Status.OK),
                        ]
                        m.next = "MEASURE"
                with m.Case(Opcode.HALT):
                    with m.If(length != 0):
                        reply(Status.BAD_LENGTH)
                    with m.Else():
                        m.next = "HALT"
                with m.Case(Opcode.RUN):
                    with m.If(length != 0):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(running):
                        m.d.sync += [last_once.eq(desc.seq), last_once_valid.eq(1)]
                        reply(Status.OK)
                    with m.Else():
                        m.d.sync += [last_once.eq(desc.seq), last_once_valid.eq(1)]
                        feed(C_RUN)
                with m.Case(Opcode.STEP):
                    with m.If(length != STEP.size):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(running):
                        reply(Status.BUSY)
                    with m.Else():
                        m.d.sync += [last_once.eq(desc.seq), last_once_valid.eq(1)]
                        m.d.sync += self.released.eq(desc.start + desc.length)
                        with m.If(steps == 0):
                            step_reply(Status.OK)
                        with m.Else():
                            feed(C_STEP)
                with m.Case(Opcode.RESET_STATE):
                    with m.If(length != 0):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(running):
                        reply(Status.BUSY)
                    with m.Else():
                        m.next = "RESET"
                with m.Case(Opcode.CLEAR_CONFIG):
                    with m.If(length != 0):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(running):
                        reply(Status.BUSY)
                    with m.Else():
                        m.d.sync += [cfg_r.eq(0), cfg_i.eq(0)]
                        m.next = "CLEAR_CONFIG"
                with m.Case(Opcode.SPIKES_IN):
                    with m.If((length < SPIKES_IN.size) | (length != SPIKES_IN.size + 2 * spk_count)):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(spk_count == 0):
                        m.d.sync += bad_value.eq(0)
                        m.next = "CHECKED"
                        m.d.sync += mode.eq(S_CHECK)
                    with m.Else():
                        m.d.sync += [
                            widx.eq(0),
                            bidx.eq(0),
                            word.eq(0),
                            bad_value.eq(0),
                            mode.eq(S_CHECK),
                        ]
                        m.d.comb += off_next.eq(SPIKES_IN.size)
                        m.next = "WORDS"
                with m.Case(Opcode.SPIKES_RESEND):
                    with m.If(length != SPIKES_RESEND.size):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(~have_record | (resend != rec_counter)):
                        reply(Status.SPIKES_GONE)
                    with m.Else():
                        head = [(rec_counter, 2), (rec_t, 4), (rec_flags, 1), (rec_count, 2)]
                        reply(Status.OK, head, T_SPIKES, rec_count * 2)

        with m.FSM() as fsm:
            with m.State("IDLE"):
                resp = self.resp.payload
                with m.If(self.resp.valid):
                    # output of a running timestep: collect spikes, handle its end
                    with m.If(resp.kind == Resp.SPIKE):
                        m.d.comb += [self.resp.ready.eq(1), rec_wr.en.eq(scount < n)]
                        m.d.sync += [scount.eq(scount + 1), have_record.eq(0)]
                    with m.Elif(resp.kind == Resp.STEP_DONE):
                        m.next = "STEP_DONE"
                    with m.Else():
                        m.d.comb += self.resp.ready.eq(1)  # a stray read answer
                with m.Elif(stepping & (steps_left == 0)):
                    m.d.sync += stepping.eq(0)
                    step_reply(Status.OK)
                with m.Elif(~stepping & self.frames.valid):
                    m.d.comb += [self.frames.ready.eq(1), accept.eq(1), off_next.eq(0)]
                    m.d.sync += [desc.eq(self.frames.payload), hdr.eq(0)]
                    m.next = "HDR"

            with m.State("HDR"):  # the payload's first bytes into hdr
                with m.If((desc.status != Status.OK) | (off >= length) | (off >= ADDRESS.size)):
                    m.next = "DISPATCH"
                with m.Else():
                    m.d.sync += hdr.word_select(off[:3], 8).eq(byte)
                    m.d.comb += off_next.eq(off + 1)

            with m.State("DISPATCH"):
                known = Signal()
                with m.Switch(opcode):
                    for op in Opcode:
                        if op is not Opcode.SPIKES_OUT:
                            with m.Case(op):
                                m.d.comb += known.eq(1)
                once = Signal()
                with m.Switch(opcode):
                    with m.Case(*EXECUTE_ONCE):
                        m.d.comb += once.eq(1)
                with m.If(desc.status != Status.OK):
                    reply(desc.status)
                with m.Elif((desc.version != PROTOCOL_VERSION) & (opcode != Opcode.IDENTIFY)):
                    reply(Status.BAD_VERSION)
                with m.Elif(~known):
                    reply(Status.UNKNOWN_OPCODE)
                with m.Elif(once & last_once_valid & (desc.seq == last_once)):
                    with m.If(opcode == Opcode.STEP):
                        step_reply(Status.DUPLICATE)
                    with m.Else():
                        reply(Status.DUPLICATE)
                with m.Else():
                    dispatch()

            # -- WRITE, READ: measure, check, commit the words ------------------------------
            with m.State("MEASURE"):
                with m.If(widx == count):
                    with m.If(opcode == Opcode.READ):
                        with m.If(ADDRESS.size + total + 2 > self.identity.max_payload):
                            reply(Status.BAD_LENGTH)
                        with m.Else():
                            m.d.sync += widx.eq(0)
                            reply(Status.OK, [(hdr, ADDRESS.size)], T_READ, total)
                    with m.Elif(total != length - ADDRESS.size):
                        reply(Status.BAD_LENGTH)
                    with m.Elif(count == 0):
                        reply(Status.OK)
                    with m.Else():
                        m.d.sync += [widx.eq(0), bidx.eq(0), word.eq(0), mode.eq(W_CHECK)]
                        m.d.comb += off_next.eq(ADDRESS.size)
                        m.next = "WORDS"
                with m.Else():
                    m.d.sync += [total.eq(total + nbytes), widx.eq(widx + 1)]

            with m.State("WORDS"):  # gather one word's bytes, little-endian
                full = word | (byte << (bidx * 8))
                m.d.comb += off_next.eq(off + 1)
                with m.If(bidx == wbytes - 1):
                    m.d.sync += [value.eq(full), word.eq(0), bidx.eq(0)]
                    m.next = "WORD_DONE"
                with m.Else():
                    m.d.sync += [word.eq(full), bidx.eq(bidx + 1)]

            with m.State("WORD_DONE"):
                last = widx + 1 == Mux(mode >= S_CHECK, spk_count, count)
                m.d.sync += widx.eq(widx + 1)
                m.next = "WORDS"
                with m.Switch(mode):
                    with m.Case(W_CHECK):
                        masked = value & check
                        with m.If((masked != 0) & ~(signed & (masked == check))):
                            m.d.sync += bad_value.eq(1)
                        is_control = region == Region.CONTROL
                        with m.If(is_control & (bad_status == Status.OK)):
                            with m.If(cur[:2] == Control.STEP_COUNT):
                                m.d.sync += bad_status.eq(Status.READ_ONLY)
                            with m.Elif(value > limit):
                                m.d.sync += bad_status.eq(Status.BAD_VALUE)
                        with m.If(last):
                            m.next = "CHECKED"
                    with m.Case(W_COMMIT):
                        command(Op.WRITE, region, cur, value)
                        with m.If(~self.cmd.ready):
                            m.d.sync += widx.eq(widx)
                            m.next = "WORD_DONE"
                        with m.Elif(last):
                            reply(Status.OK)
                    with m.Case(S_CHECK):
                        with m.If(value >= k):
                            m.d.sync += bad_value.eq(1)
                        with m.If(last):
                            m.next = "CHECKED"
                    with m.Case(S_SET):
                        m.d.comb += [
                            bits_wr.addr.eq(bit_addr(value)),
                            bits_wr.data.eq(1),
                            bits_wr.en.eq(1),
                        ]
                        with m.If(last):
                            reply(Status.OK)

            with m.State("CHECKED"):
                with m.If(mode == W_CHECK):
                    with m.If(bad_value):
                        reply(Status.BAD_VALUE)
                    with m.Elif(bad_status != Status.OK):
                        reply(bad_status)
                    with m.Else():
                        m.d.sync += [widx.eq(0), mode.eq(W_COMMIT)]
                        m.d.comb += off_next.eq(ADDRESS.size)
                        m.next = "WORDS"
                with m.Else():  # SPIKES_IN
                    with m.If(bad_value):
                        reply(Status.ADDRESS_OUT_OF_RANGE)
                    with m.Elif(spk_t < next_feed):
                        m.d.sync += [
                            flags.eq(flags | SpikeFlag.INPUT_LATE),
                            pending_flags.eq(pending_flags | SpikeFlag.INPUT_LATE),
                        ]
                        reply(Status.INPUT_LATE)
                    with m.Elif(spk_t >= next_feed + depth):
                        reply(Status.BUSY)
                    with m.Else():  # set, not add: clear the timestep's bits first
                        m.d.sync += [
                            slot.eq(spk_t[: max(1, (depth - 1).bit_length())]),
                            clr_addr.eq(spk_t[: max(1, (depth - 1).bit_length())] * k2),
                            clr_end.eq(spk_t[: max(1, (depth - 1).bit_length())] * k2 + k2),
                        ]
                        m.next = "CLEAR_BITS"

            with m.State("CLEAR_BITS"):
                m.d.comb += [
                    bits_wr.addr.eq(clr_addr),
                    bits_wr.data.eq(0),
                    bits_wr.en.eq(clr_addr != clr_end),
                ]
                m.d.sync += clr_addr.eq(clr_addr + 1)
                with m.If(clr_addr == clr_end):
                    with m.If(opcode == Opcode.SPIKES_IN):
                        with m.If(spk_count == 0):
                            reply(Status.OK)
                        with m.Else():
                            m.d.sync += [widx.eq(0), bidx.eq(0), word.eq(0), mode.eq(S_SET)]
                            m.d.comb += off_next.eq(SPIKES_IN.size)
                            m.next = "WORDS"
                    with m.Else():  # RESET_STATE
                        reply(Status.OK)

            # -- READ words from the core -------------------------------------------------------
            with m.State("READ_CMD"):
                command(Op.READ, region, cur)
                with m.If(self.cmd.ready):
                    m.next = "READ_WAIT"
            with m.State("READ_WAIT"):
                m.d.comb += self.resp.ready.eq(1)
                with m.If(self.resp.valid):
                    m.d.sync += [value.eq(self.resp.payload.data), bidx.eq(0)]
                    m.next = "READ_EMIT"
            with m.State("READ_EMIT"):
                final = (widx + 1 == count) & (bidx == nbytes - 1)
                m.d.comb += [
                    self.tx.valid.eq(1),
                    self.tx.payload.data.eq(value.word_select(bidx[:2], 8)),
                    self.tx.payload.last.eq(final),
                ]
                with m.If(self.tx.ready):
                    m.d.sync += bidx.eq(bidx + 1)
                    with m.If(bidx == nbytes - 1):
                        m.d.sync += widx.eq(widx + 1)
                        m.next = "READ_CMD"
                        with m.If(final):
                            m.next = "SENT"

            # -- sending: prefix, then the tail ---------------------------------------------------
            with m.State("EMIT"):
                no_tail = tail_len == 0
                end = pidx == plen - 1
                m.d.comb += [
                    self.tx.valid.eq(1),
                    self.tx.payload.data.eq(prefix.word_select(pidx, 8)),
                    self.tx.payload.last.eq(end & no_tail),
                ]
                with m.If(self.tx.ready):
                    m.d.sync += pidx.eq(pidx + 1)
                    with m.If(end):
                        with m.If(no_tail):
                            m.next = "SENT"
                        with m.Elif(tail == T_READ):
                            m.next = "READ_CMD"
                        with m.Else():
                            m.next = "TAIL"
            with m.State("TAIL"):  # IDENTIFY ROM or the spike record, byte by byte
                final = tidx == tail_len - 1
                rec_byte = Mux(tidx[0], rec_rd.data[8:], rec_rd.data[:8])
                m.d.comb += [
                    self.tx.valid.eq(1),
                    self.tx.payload.data.eq(Mux(tail == T_IDENT, ident_rd.data, rec_byte)),
                    self.tx.payload.last.eq(final),
                ]
                with m.If(self.tx.ready):
                    m.d.comb += tidx_next.eq(tidx + 1)
                    with m.If(final):
                        m.next = "SENT"
            with m.State("SENT"):
                with m.If(after == A_STEP_DONE):
                    m.next = "STEP_NEXT"
                with m.Else():
                    m.next = "IDLE"

            # -- timesteps ------------------------------------------------------------------------
            with m.State("FEED_START"):  # slot is set: address its first bit
                m.d.comb += bit_i_next.eq(0)
                m.next = "FEED"
            with m.State("FEED"):  # inputs of next_feed: an INPUT per set bit, clearing it
                with m.If(bit_i == k2):
                    m.d.sync += next_feed.eq(next_feed + 1)
                    m.next = "FED"
                with m.Elif(bits_rd.data & (bit_i < k)):
                    m.next = "FEED_SEND"
                with m.Else():
                    m.d.comb += bit_i_next.eq(bit_i + 1)
            with m.State("FEED_SEND"):
                command(Op.INPUT, data=bit_i)
                m.d.comb += [bits_wr.addr.eq(bit_addr(bit_i)), bits_wr.data.eq(0)]
                with m.If(self.cmd.ready):
                    m.d.comb += [bits_wr.en.eq(1), bit_i_next.eq(bit_i + 1)]
                    m.next = "FEED"
            with m.State("FED"):
                with m.Switch(cont):
                    with m.Case(C_STEP):
                        command(Op.STEP, data=steps)
                        with m.If(self.cmd.ready):
                            m.d.sync += [stepping.eq(1), steps_left.eq(steps)]
                            m.next = "IDLE"
                    with m.Case(C_RUN):
                        command(Op.RUN)
                        with m.If(self.cmd.ready):
                            m.d.sync += running.eq(1)
                            reply(Status.OK)
                    with m.Case(C_ACK):
                        m.next = "STEP_ACK"

            with m.State("STEP_DONE"):  # a timestep ended: its record first
                with m.If((scount != 0) | (pending_flags != 0)):
                    m.d.sync += [
                        rec_counter.eq(records),
                        rec_t.eq(now),
                        rec_flags.eq(pending_flags),
                        rec_count.eq(scount),
                        have_record.eq(1),
                        records.eq(records + 1),
                        pending_flags.eq(0),
                    ]
                    head = [(records, 2), (now, 4), (pending_flags, 1), (scount, 2)]
                    send_frame(records[:8], Opcode.SPIKES_OUT, head, T_SPIKES, scount * 2, then=A_STEP_DONE)
                with m.Else():
                    m.next = "STEP_NEXT"
            with m.State("STEP_NEXT"):
                m.d.sync += [now.eq(now + 1), scount.eq(0)]
                with m.If(~running & (steps_left != 0)):
                    m.d.sync += steps_left.eq(steps_left - 1)
                # the next timestep starts as soon as the core has this answer: its inputs first
                with m.If(running | (steps_left > 1)):
                    feed(C_ACK)
                with m.Else():
                    m.next = "STEP_ACK"
            with m.State("STEP_ACK"):
                m.d.comb += self.resp.ready.eq(1)
                m.next = "IDLE"

            # -- single commands ------------------------------------------------------------------
            with m.State("HALT"):
                command(Op.HALT)
                with m.If(self.cmd.ready):
                    m.d.sync += [running.eq(0), last_once.eq(desc.seq), last_once_valid.eq(1)]
                    reply(Status.OK)
            with m.State("RESET"):
                command(Op.RESET_STATE)
                with m.If(self.cmd.ready):
                    m.d.sync += [
                        now.eq(0),
                        next_feed.eq(0),
                        records.eq(0),
                        flags.eq(0),
                        pending_flags.eq(0),
                        have_record.eq(0),
                        scount.eq(0),
                        clr_addr.eq(0),
                        clr_end.eq(depth * k2),
                        last_once.eq(desc.seq),
                        last_once_valid.eq(1),
                    ]
                    m.next = "CLEAR_BITS"
            with m.State("CLEAR_CONFIG"):
                command(Op.WRITE, cfg_region, cfg_i, 0)
                with m.If(self.cmd.ready):
                    m.d.sync += cfg_i.eq(cfg_i + 1)
                    with m.If(cfg_i + 1 == cfg_size):
                        m.d.sync += [cfg_i.eq(0), cfg_r.eq(cfg_r + 1)]
                        with m.If(cfg_r == len(CONFIG_REGIONS) - 1):
                            m.d.sync += [last_once.eq(desc.seq), last_once_valid.eq(1)]
                            reply(Status.OK)
        m.d.comb += [self.busy.eq(~fsm.ongoing("IDLE") | stepping), self.running.eq(running)]
        return m
