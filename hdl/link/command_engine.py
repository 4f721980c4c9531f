"""Command engine: executes protocol frames on the core's command stream and answers them.

It takes frame descriptors from the decoder (payloads in the request buffer), runs each
request as :class:`firmware_host.device_model.DeviceModel` does, with the same checks in
the same order and the same status codes, and sends every reply and every SPIKES_OUT
record to the frame encoder. Frames are executed one at a time, in order.

It joins three components (docs/architecture.md, "Adding an opcode"):

- :class:`~hdl.link.request_reader.RequestReader`: the request's payload from the request
  buffer: its fixed fields (the engine waits in ``HDR``), then a byte stream to the walker;
- :class:`~hdl.link.request_decoder.RequestDecoder`: the checks of the command table for
  the request and its fixed fields: a verdict;
- :class:`~hdl.link.word_walker.WordWalker`: WRITE, READ, CLEAR_CONFIG and SPIKES_IN's
  indices (the engine waits in ``WALK``);
- :class:`~hdl.link.reply_encoder.ReplyEncoder`: every reply and SPIKES_OUT body (the
  engine waits in ``EMIT``);
- :class:`~hdl.link.input_buffer.InputBuffer`: the input bitmap and the last spike record;
  before each timestep the engine has it send the core an ``INPUT`` per set bit of the
  timestep (the engine waits in ``INPUTS``).

What the engine keeps itself (docs/protocol.md, "Gateware"): the timesteps (STEP, RUN,
HALT, RESET_STATE: the timestep counter, the steps left, the running flag), the head of
the last spike record (``spike_log`` = 1), the record counter, the sticky and pending
flags, and the sequence number of the last run-state command (DUPLICATE).

Differences from the model: a free run is paced by the UART (a record waits for the line
instead of being dropped), and the spike log holds one record.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import ReadPort
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, ceil_log2

from firmware_host.protocol import (
    REQUESTS,
    Opcode,
    SpikeFlag,
    Status,
)
from hdl.commands import Op, Resp, command_layout, response_layout
from snn.core_spec import CoreSpec

from .frame_encoder import BODY
from .input_buffer import Bitmap, InputBuffer
from .params import LinkParams, identity
from .reply_encoder import ReplyEncoder, ReplyKind
from .request_decoder import RequestDecoder, request_layout
from .request_reader import RequestReader
from .word_walker import Walk, WordWalker

# the word loop tells READ from WRITE by the opcode's bit 0
assert Opcode.READ & 1 and not Opcode.WRITE & 1


class CommandEngine(wiring.Component):
    """Protocol frames in (``frames`` + the request ``buffer``), core commands out
    (``cmd``/``resp``), reply bodies out (``tx``, to the frame encoder)."""

    def __init__(self, spec: CoreSpec, params: LinkParams, *, ptr_bits: int):
        self.spec, self.params, self.ptr_bits = spec, params, ptr_bits
        self.identity = identity(spec, params)
        self.length_bits = bits_for(self.identity.max_payload)
        # the IDENTIFY reply's tail: a ROM that another module's block RAM holds (the frame
        # encoder's: block RAM is scarce on the UP5K, and a ROM in logic costs ~40 cells)
        self.ident_bytes = self.identity.pack()
        if params.input_depth < 2 or params.input_depth & (params.input_depth - 1):
            raise ValueError(f"input_depth must be a power of two >= 2, got {params.input_depth}")
        super().__init__(
            {
                "frames": In(stream.Signature(request_layout(self.length_bits))),
                "buffer": In(ReadPort.Signature(addr_width=ptr_bits - 1, shape=8)),
                "released": Out(ptr_bits),
                "cmd": Out(stream.Signature(command_layout(spec))),
                "resp": In(stream.Signature(response_layout(spec))),
                "tx": Out(stream.Signature(BODY)),
                "busy": Out(1),  # a frame or a STEP is being executed
                "running": Out(1),  # a free run (RUN)
                # the IDENTIFY ROM: data one cycle after the address (as a read port), read
                # only while sending to ``tx``; a byte is taken from it only when it is valid
                "ident_addr": Out(max(1, ceil_log2(len(self.ident_bytes)))),
                "ident_data": In(8),
            }
        )

    def elaborate(self, platform):
        spec, params = self.spec, self.params
        n, depth = spec.max_neurons, params.input_depth
        sbits = ceil_log2(depth)  # depth >= 2
        max_payload = self.identity.max_payload
        m = Module()

        # -- the input bitmap and the last spike record ----------------------------------------
        m.submodules.inputs = inputs = InputBuffer(spec, depth)
        rec_bits = inputs.rec_bits

        # -- request: descriptor, payload bytes, parsed fields --------------------------------
        # the request's descriptor: the FIFO's output, held there until its reply is sent
        request = self.frames.payload
        length = request.length
        m.submodules.reader = reader = RequestReader(ptr_bits=self.ptr_bits, length_bits=self.length_bits)
        wiring.connect(m, wiring.flipped(self.buffer), reader.buffer)
        m.d.comb += [self.released.eq(reader.released), reader.length.eq(length)]
        fixed = reader.fixed  # the fixed fields (the payload's first bytes)
        steps = fixed[0:32]  # STEP
        spk_t, spk_count = fixed[0:32], fixed[32:48]  # SPIKES_IN
        resend = fixed[0:16]  # SPIKES_RESEND

        # -- state ----------------------------------------------------------------------------
        running = Signal()
        stepping = Signal()  # a STEP request is being executed: its reply is due when steps_left is 0
        steps_left = Signal(32)
        now = Signal(32)  # timestep of the core (steps done since RESET_STATE)
        # the first timestep whose inputs have not gone to the core is now + fed: inputs go
        # to the core just before their timestep starts, and now counts the ended ones
        fed = Signal()
        # the record counter: records so far is rec_counter + 1, or 0 before the first one
        # (rec_counter is the last record's, so one register and one adder serve both)
        any_record, rec_counter = Signal(), Signal(16)
        records = Signal(16)
        m.d.comb += records.eq(Mux(any_record, rec_counter + 1, 0))
        flags, pending_flags = Signal(8), Signal(8)
        last_once, last_once_valid = Signal(8), Signal()
        spikes_now = Signal(range(n + 1))  # spikes of the running timestep, in the record memory
        have_record = Signal()
        rec_t, rec_flags, rec_count = Signal(32), Signal(8), Signal(range(n + 1))

        # -- words: WRITE, READ, CLEAR_CONFIG, SPIKES_IN's indices --------------------------------
        m.submodules.words = walker = WordWalker(spec, length_bits=self.length_bits, max_payload=max_payload)
        m.d.comb += [
            walker.args.eq(fixed),
            walker.length.eq(length),
            walker.read.eq(request.opcode[0]),  # READ, or WRITE (the only other walk that reads it)
            walker.cmd.ready.eq(self.cmd.ready),
            walker.resp.valid.eq(self.resp.valid),
            walker.resp.payload.eq(self.resp.payload),
            walker.tx.ready.eq(self.tx.ready),
        ]
        # the walker's payload bytes, commands, answers and READ bytes: the FSM's states
        # that drive these themselves never meet a walk
        wiring.connect(m, reader.payload, walker.payload)
        m.d.comb += [reader.seek.eq(walker.seek), reader.seek_to.eq(walker.seek_to)]
        m.d.comb += [
            self.cmd.valid.eq(walker.cmd.valid),
            self.cmd.payload.eq(walker.cmd.payload),
            self.resp.ready.eq(walker.resp.ready),
        ]

        def walk(kind):
            """Start a walk of the word walker (goes to WALK)."""
            m.d.comb += [walker.start.valid.eq(1), walker.start.payload.walk.eq(kind)]
            m.next = "WALK"

        # -- reply: the reply encoder sends it from these registers --------------------------
        m.submodules.replies = replies = ReplyEncoder(
            max_neurons=n, credits=params.credits, max_payload=max_payload, ident_size=len(self.ident_bytes)
        )
        m.d.comb += [
            replies.seq.eq(request.seq),
            replies.opcode.eq(request.opcode),
            replies.args.eq(fixed),
            replies.read_length.eq(walker.total),
            replies.running.eq(running),
            replies.now.eq(now),
            replies.records.eq(records),
            replies.flags.eq(flags),
            replies.rec_counter.eq(rec_counter),
            replies.rec_t.eq(rec_t),
            replies.rec_flags.eq(rec_flags),
            replies.rec_count.eq(rec_count),
            replies.ident_data.eq(self.ident_data),
            replies.rec_data.eq(inputs.record_data),
            self.ident_addr.eq(replies.tail_addr),
        ]
        # the encoder's bytes go out, but while the walker sends a READ's words
        wiring.connect(m, replies.body, wiring.flipped(self.tx))
        with m.If(walker.tx.valid):
            m.d.comb += [self.tx.valid.eq(1), self.tx.payload.eq(walker.tx.payload)]

        # replies start from many places: each sets these, one update below applies them
        do_release = Signal()
        mark_once = Signal()  # a run-state command: its seq is the last one
        with m.If(mark_once):
            m.d.sync += [last_once.eq(request.seq), last_once_valid.eq(1)]
        m.d.comb += reader.release.eq(do_release)

        def send(kind, status=None):
            """Start sending a frame of kind ``kind`` (goes to EMIT)."""
            m.d.comb += [replies.start.valid.eq(1), replies.start.payload.kind.eq(kind)]
            if status is not None:
                m.d.comb += replies.start.payload.status.eq(status)
            m.next = "EMIT"

        def reply(status, kind=ReplyKind.PLAIN):
            """Answer the current request (and give its payload's buffer space back)."""
            send(kind, status)
            release()

        def release():
            m.d.comb += do_release.eq(1)

        def step_reply(status):
            reply(status, ReplyKind.STEP)

        def command(op, data=0):
            """A core command of the engine's own (STEP, RUN, HALT, RESET_STATE)."""
            payload = self.cmd.payload
            m.d.comb += [
                self.cmd.valid.eq(1),
                payload.op.eq(op),
                payload.region.eq(0),
                payload.index.eq(0),
                payload.data.eq(data),
            ]

        # feeding the inputs of timestep now + fed to the core, then continuing
        after_feed = Signal(2)
        C_STEP, C_RUN, C_ACK = range(3)
        wiring.connect(m, walker.index, inputs.set)  # SPIKES_IN's sources into the bitmap
        with m.If(inputs.cmd.valid):  # INPUT commands while feeding
            m.d.comb += [self.cmd.valid.eq(1), self.cmd.payload.eq(inputs.cmd.payload)]
        m.d.comb += inputs.cmd.ready.eq(self.cmd.ready)

        def bitmap(walk, slot=0):
            """Start a walk over the input bitmap (goes to INPUTS)."""
            m.d.comb += [
                inputs.start.valid.eq(1),
                inputs.start.payload.walk.eq(walk),
                inputs.start.payload.slot.eq(slot),
            ]
            m.next = "INPUTS"

        def feed(then):
            m.d.sync += after_feed.eq(then)
            bitmap(Bitmap.FEED, now[:sbits] + fed)

        opcode = request.opcode

        # SPIKES_IN timestep against now + fed: late (below it), or too far ahead (depth or
        # more above it); from diff = spk_t - now (33 bits, bit 32 the borrow): one
        # subtractor, and fed only in the few bits where diff meets 0 and depth
        diff = Signal(33)
        m.d.comb += diff.eq(spk_t - now)
        high_zero = diff[sbits + 1 : 32] == 0  # 0 <= diff < 2 x depth
        low = diff[:sbits]
        # diff < fed: negative, or 0 with fed
        late = diff[32] | (fed & high_zero & ~diff[sbits] & (low == 0))
        # diff - fed >= depth: 2 x depth or more, or in [depth, 2 x depth) but depth with fed
        too_far = ~high_zero | (diff[sbits] & (~fed | (low != 0)))

        # the checks every request gets, from the command table
        m.submodules.request = checks = RequestDecoder(spec, self.length_bits)
        m.d.comb += [
            checks.request.eq(request),
            checks.args.eq(fixed),
            checks.running.eq(running),
            checks.last_once.eq(last_once),
            checks.last_once_valid.eq(last_once_valid),
        ]

        executed = set()

        def case(*ops):
            """The case of ``ops`` in :func:`dispatch` (every row of the table needs one)."""
            executed.update(ops)
            return m.Case(*ops)

        def dispatch():
            """A request that passed the table's checks: the opcode's own checks, in
            DeviceModel's order, then its first state."""
            with m.Switch(opcode):
                with case(Opcode.IDENTIFY):
                    m.d.sync += last_once_valid.eq(0)  # a new session
                    reply(Status.OK, ReplyKind.IDENT)
                with case(Opcode.STATUS):
                    reply(Status.OK, ReplyKind.STATUS)
                with case(Opcode.WRITE):
                    walk(Walk.WRITE)
                with case(Opcode.READ):
                    walk(Walk.READ)
                with case(Opcode.HALT):
                    m.next = "HALT"
                with case(Opcode.RUN):
                    m.d.comb += mark_once.eq(1)
                    with m.If(running):
                        reply(Status.OK)
                    with m.Else():
                        feed(C_RUN)
                with case(Opcode.STEP):
                    m.d.comb += mark_once.eq(1)
                    release()
                    with m.If(steps == 0):
                        step_reply(Status.OK)
                    with m.Else():
                        feed(C_STEP)
                with case(Opcode.RESET_STATE):
                    m.next = "RESET"
                with case(Opcode.CLEAR_CONFIG):
                    walk(Walk.CLEAR)
                with case(Opcode.SPIKES_IN):
                    walk(Walk.INDICES_CHECK)
                with case(Opcode.SPIKES_RESEND):
                    with m.If(~have_record | (resend != rec_counter)):
                        reply(Status.SPIKES_GONE)
                    with m.Else():
                        reply(Status.OK, ReplyKind.RESEND)

        with m.FSM() as fsm:
            with m.State("IDLE"):
                resp = self.resp.payload
                with m.If(self.resp.valid):
                    # output of a running timestep: collect spikes, handle its end
                    with m.If(resp.kind == Resp.SPIKE):
                        m.d.comb += [
                            self.resp.ready.eq(1),
                            inputs.spike.valid.eq(1),
                            inputs.spike.payload.pos.eq(spikes_now),
                            inputs.spike.payload.neuron.eq(resp.index[:rec_bits]),
                        ]
                        m.d.sync += [spikes_now.eq(spikes_now + 1), have_record.eq(0)]
                    with m.Elif(resp.kind == Resp.STEP_DONE):
                        m.next = "STEP_DONE"
                    with m.Else():
                        m.d.comb += self.resp.ready.eq(1)  # a stray read answer
                with m.Elif(stepping & (steps_left == 0)):
                    m.d.sync += stepping.eq(0)
                    step_reply(Status.OK)
                with m.Elif(~stepping & self.frames.valid):
                    m.d.comb += [reader.start.valid.eq(1), reader.start.payload.held.eq(request.nak == 0)]
                    m.next = "HDR"

            with m.State("HDR"):  # the reader fetches the fixed fields
                with m.If(reader.fetched):
                    m.next = "DISPATCH"

            with m.State("DISPATCH"):
                with m.If(checks.status == Status.OK):
                    dispatch()
                with m.Else():  # a DUPLICATE carries the reply's fields as they are now
                    reply(checks.status, checks.kind)

            # -- WRITE, READ, CLEAR_CONFIG, SPIKES_IN: the word walker --------------------------
            with m.State("WALK"):  # then the reply, but after a READ's words
                with m.If(walker.done):
                    with m.If(walker.sent):  # a READ's words: its reply is out
                        m.next = "SENT"
                    with m.Elif(walker.indices & ~walker.status[4]):  # SPIKES_IN: its timestep
                        with m.If(late):
                            m.d.sync += [
                                flags.eq(flags | SpikeFlag.INPUT_LATE),
                                pending_flags.eq(pending_flags | SpikeFlag.INPUT_LATE),
                            ]
                            reply(Status.INPUT_LATE)
                        with m.Elif(too_far):
                            reply(Status.BUSY)
                        with m.Else():  # set, not add: clear the timestep's bits first
                            bitmap(Bitmap.CLEAR_SLOT, spk_t[:sbits])
                    with m.Else():  # a READ's reply head (its words follow), or the reply
                        m.d.comb += mark_once.eq(checks.once)  # CLEAR_CONFIG
                        reply(walker.status, Mux(walker.words, ReplyKind.READ, ReplyKind.PLAIN))

            with m.State("INPUTS"):  # a walk over the input bitmap
                with m.If(inputs.done):
                    with m.If(inputs.fed):  # the next timestep's inputs are in the core
                        m.d.sync += fed.eq(1)
                        m.next = "FED"
                    with m.Elif(opcode == Opcode.SPIKES_IN):  # its timestep's bits cleared
                        with m.If(spk_count == 0):
                            reply(Status.OK)
                        with m.Else():
                            walk(Walk.INDICES_SET)
                    with m.Else():  # RESET_STATE
                        reply(Status.OK)

            # -- sending: header and fixed fields, then the tail ----------------------------------
            with m.State("EMIT"):  # the reply encoder sends it
                with m.If(replies.done):
                    m.next = "SENT"
                with m.Elif(replies.words):
                    walk(Walk.READ_WORDS)
            with m.State("SENT"):
                with m.If(replies.kind == ReplyKind.OUT):
                    m.next = "STEP_NEXT"
                with m.Else():  # the request's reply: its descriptor leaves the FIFO
                    m.d.comb += self.frames.ready.eq(1)
                    m.next = "IDLE"

            # -- timesteps ------------------------------------------------------------------------
            with m.State("FED"):
                with m.Switch(after_feed):
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
                with m.If((spikes_now != 0) | (pending_flags != 0)):
                    m.d.sync += [
                        rec_counter.eq(records),
                        rec_t.eq(now),
                        rec_flags.eq(pending_flags),
                        rec_count.eq(spikes_now),
                        have_record.eq(1),
                        any_record.eq(1),
                        pending_flags.eq(0),
                    ]
                    send(ReplyKind.OUT)
                with m.Else():
                    m.next = "STEP_NEXT"
            with m.State("STEP_NEXT"):
                m.d.sync += [now.eq(now + 1), spikes_now.eq(0), fed.eq(0)]
                with m.If(~running & (steps_left != 0)):
                    m.d.sync += steps_left.eq(steps_left - 1)
                # the next timestep starts as soon as the core has this answer: its inputs first
                with m.If(running | (steps_left[1:] != 0)):
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
                    m.d.sync += running.eq(0)
                    m.d.comb += mark_once.eq(1)
                    reply(Status.OK)
            with m.State("RESET"):
                command(Op.RESET_STATE)
                with m.If(self.cmd.ready):
                    m.d.sync += [
                        now.eq(0),
                        fed.eq(0),
                        any_record.eq(0),
                        flags.eq(0),
                        pending_flags.eq(0),
                        have_record.eq(0),
                        spikes_now.eq(0),
                    ]
                    m.d.comb += mark_once.eq(1)
                    bitmap(Bitmap.CLEAR_ALL)
        missing = set(REQUESTS) - executed
        if missing:
            raise NotImplementedError(f"the command engine executes no {sorted(op.name for op in missing)}")
        m.d.comb += inputs.record_addr.eq(replies.tail_addr >> 1)  # the record's neurons, two bytes each
        m.d.comb += [self.busy.eq(~fsm.ongoing("IDLE") | stepping), self.running.eq(running)]
        return m
