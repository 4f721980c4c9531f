"""Word walker: the loops over words of a request, against the core's memories.

One walk at a time, started by ``start`` with a :class:`Walk`:

- ``WRITE``: measure the words' wire bytes against the payload's length, check every word
  (width, sign extension, CONTROL's read-only register and limits), then write them to
  the core (``cmd``): a refused frame writes nothing;
- ``READ``: measure the reply (at most ``max_payload``); ``READ_WORDS`` then reads the
  words from the core (``cmd``/``resp``) and sends their wire bytes on ``tx`` (after the
  reply encoder has sent the reply's head and fixed fields);
- ``CLEAR``: a WRITE of 0 to every configuration word (CLEAR_CONFIG);
- ``INDICES_CHECK``: SPIKES_IN's source indices against ``max_inputs``;
  ``INDICES_SET``: each index out on ``index`` (the input bitmap sets its bit).

Payload bytes come in on ``payload`` (one per cycle, little-endian words after the fixed
fields; ``seek`` asks for the byte at ``seek_to`` next). At the end ``done`` pulses with
``status``: OK or the refusal (BAD_LENGTH, BAD_VALUE, READ_ONLY, ADDRESS_OUT_OF_RANGE
for an index); ``total`` is then a READ reply's length. A request whose words would make a payload or a
reply longer than ``max_payload`` is BAD_LENGTH as soon as the measure passes it. The request's fixed fields
(``args``: an ADDRESS, or SPIKES_IN's timestep and count) and ``length`` stay put meanwhile.
"""

from enum import IntEnum

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, ceil_log2

from firmware_host.memory_map import CONFIG_REGIONS, Control, Region, region_size
from firmware_host.protocol import ADDRESS, REPLY_HEAD, SPIKES_IN, Status
from hdl.commands import Op, command_layout, index_bits, response_layout
from hdl.compare import at_least
from snn.core_spec import CoreSpec

from .frame_encoder import BODY
from .wire_words import word_format


class Walk(IntEnum):
    """What a walk does (see the module docstring)."""

    WRITE = 0
    READ = 1
    READ_WORDS = 2
    CLEAR = 3
    INDICES_CHECK = 4
    INDICES_SET = 5


class WordWalker(wiring.Component):
    """``start`` a :class:`Walk`; ``payload`` bytes in; core commands on ``cmd``/``resp``;
    READ bytes on ``tx``; SPIKES_IN indices on ``index``; ``done`` with ``status``."""

    def __init__(self, spec: CoreSpec, *, length_bits: int, max_payload: int):
        self.spec, self.max_payload = spec, max_payload
        k = spec.max_inputs
        self.kbits = ceil_log2(max(k, 2))
        # a request's words fit in one region (checked first), SPIKES_IN's indices in a payload
        self.max_words = max(max(region_size(spec, r) for r in Region), max_payload // 2)
        super().__init__(
            {
                "start": In(stream.Signature(data.StructLayout({"walk": Walk}))),
                "args": In(8 * ADDRESS.size),
                "length": In(length_bits),
                "read": In(1),  # the request is a READ (else a WRITE), while it is walked
                "payload": In(stream.Signature(8)),
                "seek": Out(1),
                "seek_to": Out(range(ADDRESS.size + 1)),
                "cmd": Out(stream.Signature(command_layout(spec))),
                "resp": In(stream.Signature(response_layout(spec))),
                "tx": Out(stream.Signature(BODY)),
                "index": Out(stream.Signature(self.kbits, always_ready=True)),
                "done": Out(1),
                "status": Out(8),
                # with done: what comes next
                "words": Out(1),  # a READ measured: its reply head, then READ_WORDS
                "sent": Out(1),  # a READ's words are sent: its reply is complete
                "indices": Out(1),  # SPIKES_IN's indices checked: its timestep next
                # wire bytes of the words, plus a READ reply's other bytes (its length)
                # (measuring stops past max_payload: one word more at most)
                "total": Out(range(max_payload + 5)),
            }
        )

    def elaborate(self, platform):
        spec, max_payload = self.spec, self.max_payload
        k = spec.max_inputs
        ib = index_bits(spec)
        m = Module()
        args = self.args
        region, index, count = args[0:8], args[8:40], args[40:56]  # ADDRESS
        spk_count = args[32:48]  # SPIKES_IN's count
        byte = self.payload.payload
        wb = bits_for(self.max_words)
        widx = Signal(wb)  # word number
        bidx = Signal(2)  # byte in the word
        value = Signal(32)  # the word (gathered byte by byte, or read from the core)
        total = self.total  # compared with the length as it is, sent as the READ reply's length
        mode = Signal(2)
        W_CHECK, W_COMMIT, S_CHECK, S_SET = range(4)
        # width errors; the first CONTROL error (READ_ONLY, or a value over its limit)
        bad_value, read_only, over = Signal(), Signal(), Signal()
        cur = Signal(ib)  # index + widx (an address inside the region, when in range)
        m.d.comb += cur.eq(index[:ib] + widx)
        nbytes, check, signed = word_format(m, spec, region, cur[:4])
        # the word's last byte, the request's last word (a READ walks in mode W_CHECK)
        last_byte = bidx == Mux(mode >= S_CHECK, 1, nbytes - 1)
        last_word = widx + 1 == Mux(mode >= S_CHECK, spk_count[:wb], count[:wb])

        # CLEAR walk: the index is widx (cur, with the empty request's args all zeros)
        cfg_max = max(region_size(spec, r) for r in CONFIG_REGIONS)
        cfg_r = Signal(range(len(CONFIG_REGIONS) + 1))
        cfg_region, cfg_last = Signal(4), Signal(range(cfg_max + 1))
        with m.Switch(cfg_r):
            for i, r in enumerate(CONFIG_REGIONS):
                size = region_size(spec, r) - (1 if r is Region.CONTROL else 0)  # keep STEP_COUNT
                with m.Case(i):
                    m.d.comb += [cfg_region.eq(r), cfg_last.eq(size - 1)]

        # CONTROL limits (DeviceModel._check_control)
        # (each register's limit a compare with a constant: logic, not a carry chain)
        limits = {
            Control.WEIGHT_SHIFT: spec.max_weight_shift,
            Control.N_INPUTS: spec.max_inputs,
            Control.N_NEURONS: spec.max_neurons,
        }
        lbits = bits_for(max(limits.values()))
        over_low = Signal()
        with m.Switch(cur[:2]):
            for reg, limit in limits.items():
                with m.Case(reg):
                    m.d.comb += over_low.eq(at_least(value[:lbits], limit + 1))
        over_limit = (value[lbits:] != 0) | over_low

        # the word loop starts from several places: one update
        start_words, start_mode = Signal(), Signal(2)
        with m.If(start_words):
            m.d.sync += [widx.eq(0), bidx.eq(0), mode.eq(start_mode)]
            m.d.comb += [
                self.seek.eq(1),
                self.seek_to.eq(Mux(start_mode >= S_CHECK, SPIKES_IN.size, ADDRESS.size)),
            ]

        def words(mode_):
            """Walk the request's words (after its fixed fields) in ``mode_``."""
            m.d.comb += [start_words.eq(1), start_mode.eq(mode_)]
            m.next = "WORDS"

        def finish(status):
            m.d.comb += [self.done.eq(1), self.status.eq(status)]
            m.next = "IDLE"

        def command(op, region_, index_, data=0):
            payload = self.cmd.payload
            m.d.comb += [
                self.cmd.valid.eq(1),
                payload.op.eq(op),
                payload.region.eq(region_),
                payload.index.eq(index_),
                payload.data.eq(data),
            ]

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.start.ready.eq(1)
                with m.If(self.start.valid):
                    with m.Switch(self.start.payload.walk):
                        with m.Case(Walk.WRITE, Walk.READ):
                            m.d.sync += [
                                widx.eq(0),
                                mode.eq(W_CHECK),
                                total.eq(Mux(self.read, ADDRESS.size + REPLY_HEAD.size, ADDRESS.size)),
                                bad_value.eq(0),
                                read_only.eq(0),
                                over.eq(0),
                            ]
                            m.next = "MEASURE"
                        with m.Case(Walk.READ_WORDS):  # widx is 0 since the measure
                            m.next = "READ_CMD"
                        with m.Case(Walk.CLEAR):
                            m.d.sync += [cfg_r.eq(0), widx.eq(0)]
                            m.next = "CLEAR"
                        with m.Case(Walk.INDICES_CHECK):
                            m.d.sync += bad_value.eq(0)
                            with m.If(spk_count == 0):
                                m.d.sync += mode.eq(S_CHECK)
                                m.next = "CHECKED"
                            with m.Else():
                                words(S_CHECK)
                        with m.Case(Walk.INDICES_SET):
                            words(S_SET)

            # -- WRITE, READ: measure, check, commit the words ------------------------------
            with m.State("MEASURE"):
                # longer than max_payload: a READ's reply, or a WRITE's payload (whose length
                # is at most max_payload), so BAD_LENGTH as soon as it is
                with m.If(at_least(total, max_payload + 1)):
                    finish(Status.BAD_LENGTH)
                with m.Elif(widx == count[:wb]):
                    with m.If(self.read):
                        m.d.sync += widx.eq(0)
                        m.d.comb += self.words.eq(1)
                        finish(Status.OK)
                    with m.Elif(total != self.length):
                        finish(Status.BAD_LENGTH)
                    with m.Elif(count == 0):
                        finish(Status.OK)
                    with m.Else():
                        words(W_CHECK)
                with m.Else():
                    m.d.sync += [total.eq(total + nbytes), widx.eq(widx + 1)]

            with m.State("WORDS"):  # gather one word's bytes, little-endian
                m.d.comb += self.payload.ready.eq(1)
                with m.If(bidx == 0):
                    m.d.sync += value.eq(byte)
                with m.Else():
                    m.d.sync += value.word_select(bidx, 8).eq(byte)
                with m.If(last_byte):
                    m.d.sync += bidx.eq(0)
                    m.next = "WORD_DONE"
                with m.Else():
                    m.d.sync += bidx.eq(bidx + 1)

            with m.State("WORD_DONE"):
                last = last_word
                m.d.sync += widx.eq(widx + 1)
                m.next = "WORDS"
                with m.Switch(mode):
                    with m.Case(W_CHECK):
                        masked = value & check
                        with m.If((masked != 0) & ~(signed & (masked == check))):
                            m.d.sync += bad_value.eq(1)
                        is_control = region == Region.CONTROL
                        with m.If(is_control & ~read_only & ~over):
                            with m.If(cur[:2] == Control.STEP_COUNT):
                                m.d.sync += read_only.eq(1)
                            with m.Elif(over_limit):
                                m.d.sync += over.eq(1)
                        with m.If(last):
                            m.next = "CHECKED"
                    with m.Case(W_COMMIT):
                        command(Op.WRITE, region, cur, value)
                        with m.If(~self.cmd.ready):
                            m.d.sync += widx.eq(widx)
                            m.next = "WORD_DONE"
                        with m.Elif(last):
                            finish(Status.OK)
                    with m.Case(S_CHECK):
                        with m.If(at_least(value[:16], k) | (value[16:] != 0)):
                            m.d.sync += bad_value.eq(1)
                        with m.If(last):
                            m.next = "CHECKED"
                    with m.Case(S_SET):
                        m.d.comb += [self.index.valid.eq(1), self.index.payload.eq(value[: self.kbits])]
                        with m.If(last):
                            finish(Status.OK)

            with m.State("CHECKED"):
                with m.If(mode == W_CHECK):
                    with m.If(bad_value | over):
                        finish(Status.BAD_VALUE)
                    with m.Elif(read_only):
                        finish(Status.READ_ONLY)
                    with m.Else():
                        words(W_COMMIT)
                with m.Else():  # SPIKES_IN's indices
                    m.d.comb += self.indices.eq(1)
                    finish(Mux(bad_value, Status.ADDRESS_OUT_OF_RANGE, Status.OK))

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
                final = last_word & last_byte
                m.d.comb += [
                    self.tx.valid.eq(1),
                    self.tx.payload.data.eq(value.word_select(bidx, 8)),
                    self.tx.payload.last.eq(final),
                ]
                with m.If(self.tx.ready):
                    m.d.sync += bidx.eq(bidx + 1)
                    with m.If(last_byte):
                        m.d.sync += widx.eq(widx + 1)
                        m.next = "READ_CMD"
                        with m.If(final):
                            m.d.comb += self.sent.eq(1)
                            finish(Status.OK)

            # -- CLEAR_CONFIG ---------------------------------------------------------------------
            with m.State("CLEAR"):
                command(Op.WRITE, cfg_region, cur, 0)
                with m.If(self.cmd.ready):
                    m.d.sync += widx.eq(widx + 1)
                    with m.If(widx == cfg_last):
                        m.d.sync += [widx.eq(0), cfg_r.eq(cfg_r + 1)]
                        with m.If(cfg_r == len(CONFIG_REGIONS) - 1):
                            finish(Status.OK)
        return m
