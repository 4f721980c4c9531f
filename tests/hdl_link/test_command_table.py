"""The command table (firmware_host.protocol.Opcode rows) against the gateware's request
decoder, the device model and the driver's codecs: iterating the table, every row's
length, address, BUSY and DUPLICATE checks give the same status in all of them, and the
RTL answers every row's request byte for byte as the device model does."""

from __future__ import annotations

import pytest
from amaranth.sim import Simulator

from firmware_host.device_model import DeviceModel
from firmware_host.framing import Frame, StreamDecoder
from firmware_host.protocol import (
    ADDRESS,
    REPLY_HEAD,
    REQUESTS,
    Opcode,
    Status,
    Tail,
    pack_request,
    unpack_reply,
)
from hdl.link.reply_encoder import KINDS, reply_kind
from hdl.link.request_decoder import ARGS_BYTES, NAKS, RequestDecoder
from snn.core_spec import CoreSpec

SPEC = CoreSpec(max_inputs=8, max_neurons=8)
UNKNOWN = 0x55


def _zeros(op: Opcode) -> tuple:
    return (0,) * len(op.command.args.unpack(bytes(op.command.args.size)))


def cases():
    """``(name, opcode, payload, running, duplicate)``: for every row, the request of
    all-zero fields (a valid address, timestep 0, no tail), one byte short, one byte long,
    during a free run, repeated with the last run-state seq, and out of the memory map."""
    out = [("unknown", UNKNOWN, b"", False, False)]
    for op in REQUESTS:
        good = pack_request(op, *_zeros(op))
        out += [
            (f"{op.name} ok", op, good, False, False),
            (f"{op.name} long", op, good + b"\x00", False, False),
            (f"{op.name} running", op, good, True, False),
            (f"{op.name} again", op, good, False, True),
        ]
        if good:
            out.append((f"{op.name} short", op, good[:-1], False, False))
        if op.command.address:
            out.append((f"{op.name} region", op, bytes([99]) + good[1:], False, False))
    return out


def model_status(opcode: int, payload: bytes, running: bool, duplicate: bool) -> Status:
    """The device model's status for the request (seq 7), in the given state."""
    dev = DeviceModel(SPEC)
    ask = [Frame(1, Opcode.RUN)] if running else []
    if duplicate:
        ask.append(Frame(7, Opcode.RESET_STATE))  # a run-state command: seq 7 is the last one
    ask.append(Frame(7, opcode, payload))
    replies = StreamDecoder().feed(dev.exchange(b"".join(f.encode() for f in ask)))
    return Status(REPLY_HEAD.unpack_from(replies[-1].payload)[0])


def test_every_row_has_a_reply_kind_and_a_model_handler():
    dev = DeviceModel(SPEC)
    for op in REQUESTS:
        assert (op.command.reply, op.command.reply_tail) in KINDS, op.name
        assert reply_kind(op.command) is not None
        assert callable(getattr(dev, f"_{op.name.lower()}")), op.name
        # the driver's codecs: a request of the row's fixed fields, a reply of its layout
        assert len(pack_request(op, *_zeros(op))) == op.command.args.size
        reply = bytes(op.command.reply.size)
        if op.command.reply_tail is not Tail.WORDS:  # words are decoded with the word formats
            assert unpack_reply(op, reply)[1] == b""


def test_request_decoder_agrees_with_the_device_model():
    """The gateware's verdict (OK: on to the component that executes the row) is the
    model's status whenever the model refuses in the table's checks, and OK otherwise."""
    dut = RequestDecoder(SPEC, length_bits=11)
    table = cases()
    got = {}

    async def bench(ctx):
        for name, opcode, payload, running, duplicate in table:
            ctx.set(dut.request.nak, NAKS.index(Status.OK))
            ctx.set(dut.request.version_ok, 1)
            ctx.set(dut.request.seq, 7)
            ctx.set(dut.request.opcode, opcode)
            ctx.set(dut.request.length, len(payload))
            ctx.set(dut.args, int.from_bytes(payload[:ARGS_BYTES].ljust(ARGS_BYTES, b"\0"), "little"))
            ctx.set(dut.running, running)
            ctx.set(dut.last_once, 7)
            ctx.set(dut.last_once_valid, duplicate)
            await ctx.delay(1e-6)  # combinational: no clock
            got[name] = Status(ctx.get(dut.status))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    generic = {Status.BAD_LENGTH, Status.ADDRESS_OUT_OF_RANGE, Status.BUSY, Status.DUPLICATE}
    generic |= {Status.UNKNOWN_OPCODE}
    for name, opcode, payload, running, duplicate in table:
        want = model_status(opcode, payload, running, duplicate)
        if opcode != UNKNOWN and not (Opcode(opcode).command.once and duplicate):
            # a refusal of the row's own handler (e.g. SPIKES_GONE) comes after the table's checks
            want = want if want in generic else Status.OK
            if name.endswith("long") and Opcode(opcode).command.args_tail is Tail.WORDS:
                want = Status.OK  # the words' length: the word walker measures it
        assert got[name] is want, (name, got[name], want)


def make_pair():
    from hdl.link.params import identity
    from hdl.link.rtl_device import RtlDevice

    rtl = RtlDevice(SPEC)
    ident = identity(SPEC, rtl.params)
    model = DeviceModel.advertising(SPEC, ident)
    return rtl, model


@pytest.fixture(scope="module")
def rtl_pair():
    return make_pair()


@pytest.mark.parametrize("op", REQUESTS, ids=lambda op: op.name)
def test_rtl_answers_every_row_as_the_model(rtl_pair, op):
    """The row's request short, long and as laid out, then again with the same seq: the
    RTL's bytes equal the model's (reply layout, DUPLICATE, lengths)."""
    # a free run's timesteps are the RTL's own (the model steps when the line is idle):
    # RUN on a pair of its own
    rtl, model = make_pair() if op is Opcode.RUN else rtl_pair
    good = pack_request(op, *_zeros(op))
    if op.command.address:  # a word that exists in every region: region 1, index 0, count 1
        good = ADDRESS.pack(1, 0, 1) + (b"\x00" if op.command.args_tail is Tail.WORDS else b"")
    requests = [good[:-1], good + b"\x00", good, good] if good else [b"\x00", good, good]
    for payload in requests:
        data = Frame(0x40 + op.value % 64, op, payload).encode()
        got, want = rtl.exchange(data), model.exchange(data)
        assert got == want, (op.name, payload, StreamDecoder().feed(got), StreamDecoder().feed(want))
