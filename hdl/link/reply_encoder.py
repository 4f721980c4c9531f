"""Reply encoder: the body (header, reply head, fixed fields, tail) of every reply and
every SPIKES_OUT record, byte by byte, for the frame encoder.

A reply is not copied into a buffer: its bytes come from a byte select by the reply's
*kind* and the byte's position, over registers that stay put while it goes out (the
request's seq, opcode and fixed fields, the counters, the last record's head: the
``fields`` ports), then a tail from a memory (the IDENTIFY ROM, the spike record; data one
cycle after ``tail_addr``). A READ reply's words come from the core: after its fixed
fields the encoder pulses ``words`` and the command engine sends them.

Each row of the command table (:class:`firmware_host.protocol.Command`) maps to a kind by
its reply layout (:func:`reply_kind`); a new reply layout needs a new kind here.
"""

from enum import IntEnum

from amaranth.hdl import Const, Module, Mux, Signal, Value, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, ceil_log2

from firmware_host.protocol import (
    ADDRESS,
    IDENTITY,
    NOTHING,
    PROTOCOL_VERSION,
    REPLY,
    SPIKE_RECORD,
    STATUS_REPLY,
    STEP_REPLY,
    Command,
    Opcode,
    Tail,
)
from hdl.compare import below

from .frame_encoder import BODY


class ReplyKind(IntEnum):
    """The fixed fields after the reply head, and the tail."""

    PLAIN = 0  # status and credits only
    IDENT = 1  # IDENTITY, from the ROM
    STATUS = 2  # STATUS_REPLY
    STEP = 3  # STEP_REPLY
    READ = 4  # ADDRESS, then the words read from the core
    RESEND = 5  # SPIKE_RECORD and the record's neurons
    OUT = 6  # SPIKES_OUT: a record without the reply head


#: reply layout of a table row -> kind
KINDS = {
    (NOTHING, Tail.NONE): ReplyKind.PLAIN,
    (IDENTITY, Tail.NONE): ReplyKind.IDENT,
    (STATUS_REPLY, Tail.NONE): ReplyKind.STATUS,
    (STEP_REPLY, Tail.NONE): ReplyKind.STEP,
    (ADDRESS, Tail.WORDS): ReplyKind.READ,
    (SPIKE_RECORD, Tail.INDICES): ReplyKind.RESEND,
}


def reply_kind(command: Command) -> ReplyKind:
    """The kind of a row's reply (``KeyError``: a layout the gateware cannot send yet)."""
    return KINDS[command.reply, command.reply_tail]


def start_layout() -> data.StructLayout:
    """A reply to send: its kind and status (SPIKES_OUT: kind OUT, no status)."""
    return data.StructLayout({"kind": ReplyKind, "status": unsigned(8)})


def _byte(v, i):
    """Byte ``i`` of ``v`` (0 above its width)."""
    v = Value.cast(v)
    return v[8 * i : 8 * i + 8] if 8 * i < len(v) else Const(0, 8)


def _le(v, nb):
    return [_byte(v, i) for i in range(nb)]


class ReplyEncoder(wiring.Component):
    """``start`` (kind, status) in, ``body`` bytes out; ``done`` pulses with the last byte
    taken, ``words`` instead when a READ's fixed fields are out (the engine sends the
    words). One reply at a time: ``start`` is taken only while idle.

    ``max_neurons`` sizes the record fields, ``credits`` is the constant of every reply
    head, ``max_payload`` the longest READ reply, ``ident_size`` the IDENTIFY ROM's bytes.
    """

    def __init__(self, *, max_neurons: int, credits: int, max_payload: int, ident_size: int):
        n = max_neurons
        self.n, self.credits, self.ident_size = n, credits, ident_size
        self.len_bits = bits_for(max(max_payload, 2 * n + 2 + SPIKE_RECORD.size, 2 + IDENTITY.size))
        tail = max(IDENTITY.size, 2 * n)
        super().__init__(
            {
                "start": In(stream.Signature(start_layout())),
                "body": Out(stream.Signature(BODY)),
                "done": Out(1),
                "words": Out(1),
                "kind": Out(ReplyKind),  # of the reply being sent (or the last one)
                # the fields: the request's, the READ reply's length, the counters, the record
                "seq": In(8),
                "opcode": In(8),
                "args": In(8 * ADDRESS.size),
                "read_length": In(self.len_bits),
                "running": In(1),
                "now": In(32),
                "records": In(16),
                "flags": In(8),
                "rec_counter": In(16),
                "rec_t": In(32),
                "rec_flags": In(8),
                "rec_count": In(range(n + 1)),
                # the tail: IDENTIFY ROM bytes, or the record's neurons (one per word)
                "tail_addr": Out(range(tail + 1)),
                "ident_data": In(8),
                "rec_data": In(max(1, ceil_log2(n))),
            }
        )

    def elaborate(self, platform):
        m = Module()
        kind, status = Signal(ReplyKind), Signal(8)
        pidx = Signal(4)  # position in header and fixed fields
        in_tail = Signal()
        tidx = Signal.like(self.tail_addr)
        tidx_next = Signal.like(tidx)
        m.d.comb += [tidx_next.eq(tidx), self.tail_addr.eq(tidx_next), self.kind.eq(kind)]
        m.d.sync += tidx.eq(tidx_next)
        busy = Signal()
        K = ReplyKind

        # Every reply starts with the header (5 bytes) and, but for SPIKES_OUT, the status
        # and the credits (positions 5, 6); the fixed fields of the other kinds sit at
        # positions 7 to 15, aligned so that each position has at most three sources
        # (STEP skips position 7, SPIKES_OUT jumps from 4 to 7): a small select per
        # position instead of one over every byte of every kind.
        rec_head = [*_le(self.rec_counter, 2), *_le(self.rec_t, 4), self.rec_flags, *_le(self.rec_count, 2)]
        stat_ext = [_byte(self.running, 0), *_le(self.now, 4), *_le(self.records, 2), self.flags]
        G_STAT, G_READ, G_REC = range(3)
        grp = Signal(2)
        with m.Switch(kind):
            with m.Case(K.READ):
                m.d.comb += grp.eq(G_READ)
            with m.Case(K.RESEND, K.OUT):
                m.d.comb += grp.eq(G_REC)
        is_out = kind == K.OUT
        last_pos = {K.PLAIN: 6, K.IDENT: 6, K.STATUS: 14, K.STEP: 13, K.READ: 13, K.RESEND: 15, K.OUT: 15}
        # the header's length field: fixed fields and tail (a READ reply fits in max_payload)
        blen = Signal(self.len_bits)
        rec_len = Signal.like(blen)
        m.d.comb += rec_len.eq(self.rec_count * 2 + Mux(is_out, SPIKE_RECORD.size, SPIKE_RECORD.size + 2))
        with m.Switch(kind):
            with m.Case(K.PLAIN):
                m.d.comb += blen.eq(2)
            with m.Case(K.IDENT):
                m.d.comb += blen.eq(2 + IDENTITY.size)
            with m.Case(K.STATUS):
                m.d.comb += blen.eq(2 + STATUS_REPLY.size)
            with m.Case(K.STEP):
                m.d.comb += blen.eq(2 + STEP_REPLY.size)
            with m.Case(K.READ):
                m.d.comb += blen.eq(self.read_length)
            with m.Case(K.RESEND, K.OUT):
                m.d.comb += blen.eq(rec_len)
        tail_len = Signal.like(tidx)  # of a READ only whether it has one
        with m.Switch(kind):
            with m.Case(K.IDENT):
                m.d.comb += tail_len.eq(self.ident_size)
            with m.Case(K.READ):
                m.d.comb += tail_len.eq(self.read_length != ADDRESS.size + 2)
            with m.Case(K.RESEND, K.OUT):
                m.d.comb += tail_len.eq(self.rec_count * 2)
        end_pos = Signal(4)
        with m.Switch(kind):
            for kd, p in last_pos.items():
                with m.Case(kd):
                    m.d.comb += end_pos.eq(p)
        pbyte = Signal(8)
        head = [
            Const(PROTOCOL_VERSION, 8),
            Mux(is_out, rec_head[0], self.seq),
            Mux(is_out, Opcode.SPIKES_OUT, self.opcode | REPLY),
            _byte(blen, 0),
            _byte(blen, 1),
            status,
            Const(self.credits, 8),
        ]
        rd_ext = _le(self.args, ADDRESS.size)
        # a byte per group by position, then the group: smaller selects than one by both
        ext = {}
        for g, items in {G_STAT: stat_ext, G_READ: rd_ext, G_REC: rec_head}.items():
            ext[g] = Signal(8)  # the group's byte at pidx (7..15)
            with m.Switch(pidx):
                for i, v in enumerate(items):
                    with m.Case(7 + i):
                        m.d.comb += ext[g].eq(v)
        with m.If(below(pidx, 7)):
            with m.Switch(pidx):
                for p, v in enumerate(head):
                    with m.Case(p):
                        m.d.comb += pbyte.eq(v)
        with m.Else():
            with m.Switch(grp):
                for g, sig in ext.items():
                    with m.Case(g):
                        m.d.comb += pbyte.eq(sig)

        m.d.comb += self.start.ready.eq(~busy)
        with m.If(self.start.valid & ~busy):
            m.d.sync += [
                kind.eq(self.start.payload.kind),
                status.eq(self.start.payload.status),
                pidx.eq(0),
                busy.eq(1),
                in_tail.eq(0),
            ]
            m.d.comb += tidx_next.eq(0)

        body = self.body
        no_tail = tail_len == 0
        with m.If(busy & ~in_tail):  # header and fixed fields
            end = pidx == end_pos
            m.d.comb += [body.valid.eq(1), body.payload.data.eq(pbyte), body.payload.last.eq(end & no_tail)]
            with m.If(body.ready):
                m.d.sync += pidx.eq(pidx + 1)
                with m.If(is_out & (pidx == 4)):
                    m.d.sync += pidx.eq(7)
                with m.If((kind == K.STEP) & (pidx == 6)):
                    m.d.sync += pidx.eq(8)
                with m.If(end):
                    with m.If(no_tail):
                        m.d.sync += busy.eq(0)
                        m.d.comb += self.done.eq(1)
                    with m.Elif(kind == K.READ):
                        m.d.sync += busy.eq(0)
                        m.d.comb += self.words.eq(1)
                    with m.Else():
                        m.d.sync += in_tail.eq(1)
        with m.If(busy & in_tail):  # the IDENTIFY ROM or the record's neurons, byte by byte
            final = tidx + 1 == tail_len
            rec_byte = Mux(tidx[0], _byte(self.rec_data, 1), _byte(self.rec_data, 0))
            m.d.comb += [
                body.valid.eq(1),
                body.payload.data.eq(Mux(kind == K.IDENT, self.ident_data, rec_byte)),
                body.payload.last.eq(final),
            ]
            with m.If(body.ready):
                m.d.comb += tidx_next.eq(tidx + 1)
                with m.If(final):
                    m.d.sync += busy.eq(0)
                    m.d.comb += self.done.eq(1)
        return m
