"""The word walker alone, against a Python memory standing in for the core: WRITE
measures, checks and writes words (nothing when refused), READ measures and sends the
words' wire bytes, CLEAR zeroes every configuration word, SPIKES_IN's indices are checked
and handed out; statuses as the device model's."""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from firmware_host.memory_map import CONFIG_REGIONS, Control, Region, region_size
from firmware_host.protocol import ADDRESS, REPLY_HEAD, SPIKES_IN, Status, encode_words, pack_spikes_in
from hdl.commands import Op, Resp
from hdl.link.word_walker import Walk, WordWalker
from snn.core_spec import CoreSpec

SPEC = CoreSpec(max_inputs=8, max_neurons=8)
MAX_PAYLOAD = 64


def run(walks, payload: bytes, mem: dict, *, stall: float = 0.3, seed: int = 0):
    """Walk ``walks`` (one after the other) over ``payload``; the core is ``mem``
    (``{(region, index): word}``). Returns ``(statuses, totals, tx bytes, indices, writes)``."""
    dut = WordWalker(SPEC, length_bits=8, max_payload=MAX_PAYLOAD)
    rng = random.Random(seed)
    out = dict(status=[], total=[], tx=bytearray(), index=[], writes=[])

    async def bench(ctx):
        ctx.set(dut.args, int.from_bytes(payload[: ADDRESS.size].ljust(ADDRESS.size, b"\0"), "little"))
        ctx.set(dut.length, len(payload))
        ctx.set(dut.read, walks[0] in (Walk.READ, Walk.READ_WORDS))
        ctx.set(dut.payload.valid, 1)
        off, answer = 0, None
        for walk in walks:
            ctx.set(dut.start.payload.walk, walk)
            ctx.set(dut.start.valid, 1)
            await ctx.delay(1e-9)
            seek, seek_to = ctx.get(dut.seek), ctx.get(dut.seek_to)  # where the words start
            await ctx.tick()
            ctx.set(dut.start.valid, 0)
            off = seek_to if seek else off
            for _ in range(2000):
                ctx.set(dut.payload.payload, payload[off] if off < len(payload) else 0)
                ready = rng.random() > stall
                ctx.set(dut.cmd.ready, ready)
                ctx.set(dut.tx.ready, rng.random() > stall)
                ctx.set(dut.resp.valid, answer is not None)
                if answer is not None:
                    ctx.set(dut.resp.payload.kind, Resp.READ_DATA)
                    ctx.set(dut.resp.payload.data, answer)
                await ctx.delay(1e-9)
                cmd_valid, cmd = ctx.get(dut.cmd.valid), ctx.get(dut.cmd.payload)
                took = ctx.get(dut.payload.ready)
                seek, seek_to = ctx.get(dut.seek), ctx.get(dut.seek_to)
                tx = (ctx.get(dut.tx.valid) and ctx.get(dut.tx.ready), ctx.get(dut.tx.payload.data))
                idx = ctx.get(dut.index.valid), ctx.get(dut.index.payload)
                resp_taken = answer is not None and ctx.get(dut.resp.ready)
                done, status, total = ctx.get(dut.done), ctx.get(dut.status), ctx.get(dut.total)
                await ctx.tick()
                off = seek_to if seek else off + took
                if resp_taken:
                    answer = None
                if cmd_valid and ready:
                    if cmd.op == Op.WRITE:
                        mem[(cmd.region, cmd.index)] = cmd.data
                        out["writes"].append((cmd.region, cmd.index))
                    elif cmd.op == Op.READ:
                        answer = mem.get((cmd.region, cmd.index), 0) & 0xFFFFFFFF
                if tx[0]:
                    out["tx"].append(tx[1])
                if idx[0]:
                    out["index"].append(idx[1])
                if done:
                    out["status"].append(Status(status))
                    out["total"].append(total)
                    break

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


def write(region, index, words):
    return ADDRESS.pack(region, index, len(words)) + encode_words(SPEC, region, index, words)


def test_write_then_read_back():
    mem = {}
    words = [5, -3, 127, -128]
    got = run([Walk.WRITE], write(Region.REC_WEIGHT, 2, words), mem)
    assert got["status"] == [Status.OK]
    assert [mem[(Region.REC_WEIGHT, 2 + i)] & 0xFF for i in range(4)] == [w & 0xFF for w in words]
    got = run([Walk.READ, Walk.READ_WORDS], ADDRESS.pack(Region.REC_WEIGHT, 2, 4), mem)
    assert got["status"] == [Status.OK, Status.OK]
    assert got["total"][0] == REPLY_HEAD.size + ADDRESS.size + 4
    assert bytes(got["tx"]) == encode_words(SPEC, Region.REC_WEIGHT, 2, words)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (write(Region.REC_WEIGHT, 0, [1, 2])[:-1], Status.BAD_LENGTH),
        (ADDRESS.pack(Region.STDP_ROW_ENABLE, 0, 1) + b"\x02", Status.BAD_VALUE),
        (write(Region.CONTROL, Control.N_NEURONS, [SPEC.max_neurons + 1]), Status.BAD_VALUE),
        (write(Region.CONTROL, Control.STEP_COUNT, [0]), Status.READ_ONLY),
        (write(Region.CONTROL, 0, [1, 2, 3, 0]), Status.READ_ONLY),
    ],
)
def test_a_refused_write_writes_nothing(payload, status):
    mem = {}
    got = run([Walk.WRITE], payload, mem)
    assert got["status"] == [status] and got["writes"] == []


@pytest.mark.parametrize(
    ("register", "limit"),
    [
        (Control.WEIGHT_SHIFT, SPEC.max_weight_shift),
        (Control.N_INPUTS, SPEC.max_inputs),
        (Control.N_NEURONS, SPEC.max_neurons),
    ],
)
def test_a_control_register_takes_up_to_its_limit(register, limit):
    for value, status in ((limit, Status.OK), (limit + 1, Status.BAD_VALUE)):
        mem = {}
        got = run([Walk.WRITE], write(Region.CONTROL, register, [value]), mem)
        assert got["status"] == [status]
        assert got["writes"] == ([] if status else [(Region.CONTROL, register)])
        assert mem.get((Region.CONTROL, register)) == (None if status else value)


def test_a_read_longer_than_max_payload_is_bad_length():
    got = run([Walk.READ], ADDRESS.pack(Region.FF_WEIGHT, 0, MAX_PAYLOAD), {})
    assert got["status"] == [Status.BAD_LENGTH]


def test_clear_zeroes_every_configuration_word():
    mem = {(Region.FF_WEIGHT, 3): 7, (Region.CONTROL, Control.STEP_COUNT): 9}
    got = run([Walk.CLEAR], b"", mem, stall=0.1)
    assert got["status"] == [Status.OK]
    want = {(r, i) for r in CONFIG_REGIONS for i in range(region_size(SPEC, r))}
    want.discard((Region.CONTROL, Control.STEP_COUNT))  # read-only: kept
    assert set(got["writes"]) == want and mem[(Region.FF_WEIGHT, 3)] == 0


def test_spike_indices_are_checked_then_handed_out():
    sources = np.array([1, 7, 3])
    payload = pack_spikes_in(4, sources)
    got = run([Walk.INDICES_CHECK, Walk.INDICES_SET], payload, {})
    assert got["status"] == [Status.OK, Status.OK] and got["index"] == [1, 7, 3]
    got = run([Walk.INDICES_CHECK], pack_spikes_in(4, [2, SPEC.max_inputs]), {})
    assert got["status"] == [Status.ADDRESS_OUT_OF_RANGE]
    assert run([Walk.INDICES_CHECK], pack_spikes_in(4, []), {})["status"] == [Status.OK]
    assert SPIKES_IN.size == 6
