"""The reply encoder alone: every reply kind's bytes equal the protocol's layouts
(header, reply head, the table row's fixed fields, the tail), under back-pressure."""

from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator

from firmware_host.protocol import (
    ADDRESS,
    HEADER,
    PROTOCOL_VERSION,
    REPLY,
    REPLY_HEAD,
    STATUS_REPLY,
    STEP_REPLY,
    Opcode,
    SpikeFlag,
    SpikeRecord,
    Status,
)
from hdl.link.reply_encoder import ReplyEncoder, ReplyKind

N, CREDITS = 8, 2
ROM = bytes(range(100, 147))  # stands in for the IDENTIFY ROM
FIELDS = dict(seq=0x5A, args=ADDRESS.pack(3, 0x1234, 2), running=1, now=70000, records=513, flags=2)
RECORD = dict(rec_counter=0x1FF, rec_t=99, rec_flags=1, neurons=[1, 4, 6])


def expected(kind: ReplyKind, opcode: Opcode, status: Status, read_length: int) -> tuple[bytes, bool]:
    """The body the encoder must send, and whether the engine's words follow (READ)."""
    head = REPLY_HEAD.pack(status, CREDITS)
    f = FIELDS
    data = {
        ReplyKind.PLAIN: b"",
        ReplyKind.IDENT: ROM,
        ReplyKind.STATUS: STATUS_REPLY.pack(f["running"], f["now"], f["records"], f["flags"]),
        ReplyKind.STEP: STEP_REPLY.pack(f["now"], f["records"]),
        ReplyKind.READ: f["args"],
        ReplyKind.RESEND: SpikeRecord(
            RECORD["rec_counter"], RECORD["rec_t"], SpikeFlag(RECORD["rec_flags"]), RECORD["neurons"]
        ).pack(),
    }
    if kind is ReplyKind.OUT:
        payload = data[ReplyKind.RESEND]
        return HEADER.pack(
            PROTOCOL_VERSION, RECORD["rec_counter"] & 0xFF, Opcode.SPIKES_OUT, len(payload)
        ) + payload, False
    length = read_length if kind is ReplyKind.READ else len(head) + len(data[kind])
    return HEADER.pack(PROTOCOL_VERSION, f["seq"], opcode | REPLY, length) + head + data[
        kind
    ], kind is ReplyKind.READ


@pytest.mark.parametrize("kind", list(ReplyKind), ids=lambda k: k.name)
def test_each_kind_sends_its_layout(kind):
    dut = ReplyEncoder(max_neurons=N, credits=CREDITS, max_payload=300, ident_size=len(ROM))
    opcode, status = Opcode.STATUS, Status.DUPLICATE
    read_length = REPLY_HEAD.size + ADDRESS.size + 5  # words follow
    want, words = expected(kind, opcode, status, read_length)
    got, ends = bytearray(), []
    rng = random.Random(kind)

    async def bench(ctx):
        for name, value in FIELDS.items():
            ctx.set(
                getattr(dut, name), int.from_bytes(value, "little") if isinstance(value, bytes) else value
            )
        ctx.set(dut.opcode, opcode)
        ctx.set(dut.read_length, read_length)
        for name in ("rec_counter", "rec_t", "rec_flags"):
            ctx.set(getattr(dut, name), RECORD[name])
        ctx.set(dut.rec_count, len(RECORD["neurons"]))
        ctx.set(dut.start.payload.kind, kind)
        ctx.set(dut.start.payload.status, status)
        ctx.set(dut.start.valid, 1)
        await ctx.tick()
        ctx.set(dut.start.valid, 0)
        for _ in range(200):
            ctx.set(dut.body.ready, rng.random() < 0.7)
            _, _, valid, ready, data, last, done, more, addr = await ctx.tick().sample(
                dut.body.valid, dut.body.ready, dut.body.payload.data, dut.body.payload.last,
                dut.done, dut.words, dut.tail_addr,
            )  # fmt: skip
            # the tail memories: data one cycle after the address
            ctx.set(dut.ident_data, ROM[addr] if addr < len(ROM) else 0)
            ctx.set(dut.rec_data, RECORD["neurons"][addr >> 1] if addr >> 1 < len(RECORD["neurons"]) else 0)
            if valid and ready:
                got.append(data)
                if last:
                    ends.append(len(got))
            if done or more:
                ends.append(("done" if done else "words", len(got)))
                break

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert bytes(got) == want
    if words:  # the words follow from the engine: no last byte yet
        assert ends == [("words", len(want))]
    else:
        assert ends == [len(want), ("done", len(want))]
