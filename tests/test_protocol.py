"""The link protocol: framing, CRC, layouts, word codecs, and the simulated device's
answers to every kind of bad frame. No serial port here (see test_board.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_host.device_model import DeviceModel
from firmware_host.framing import BadFrame, Frame, StreamDecoder, cobs_decode, cobs_encode, crc16, parse
from firmware_host.memory_map import Control, Region, region_size
from firmware_host.protocol import (
    ADDRESS,
    CRC_CHECK,
    EXECUTE_ONCE,
    MAX_FRAME,
    REPLY,
    REPLY_HEAD,
    REQUESTS,
    SPEC_FIELDS,
    SPIKES_RESEND,
    STEP,
    STEP_REPLY,
    DeviceStatus,
    Identity,
    Opcode,
    SpikeFlag,
    SpikeRecord,
    Status,
    decode_words,
    encode_words,
    pack_request,
    pack_spikes_in,
    unpack_reply,
    unpack_spikes_in,
    word_format,
)
from snn.core_spec import CoreSpec

SPEC = CoreSpec()
SMALL = CoreSpec(max_inputs=8, max_neurons=8)
frames = st.builds(
    Frame,
    seq=st.integers(0, 255),
    opcode=st.integers(0, 255),
    payload=st.binary(max_size=600),
)


# -- CRC and COBS -------------------------------------------------------------------------
def test_crc_is_xmodem_with_its_check_value():
    assert crc16(b"123456789") == CRC_CHECK == 0x31C3


@given(st.binary(max_size=1200))
def test_cobs_round_trip_without_zeros(data):
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert len(encoded) <= len(data) + len(data) // 254 + 1
    assert cobs_decode(encoded) == data


@pytest.mark.parametrize("bad", [b"\x00", b"\x05ab", b"\x03a\x00"])
def test_cobs_refuses_malformed_blocks(bad):
    with pytest.raises(ValueError):
        cobs_decode(bad)


# -- frames and the stream decoder --------------------------------------------------------
@given(frames)
def test_frame_round_trip(frame):
    wire = frame.encode()
    assert wire.endswith(b"\x00") and 0 not in wire[:-1]
    assert StreamDecoder().feed(wire) == [frame]


@given(st.lists(frames, min_size=1, max_size=5), st.integers(1, 64))
def test_decoder_takes_any_chunking(batch, chunk):
    wire = b"".join(f.encode() for f in batch)
    decoder = StreamDecoder()
    got = []
    for i in range(0, len(wire), chunk):
        got += decoder.feed(wire[i : i + chunk])
    assert got == batch


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), frames)
def test_decoder_survives_noise_and_resynchronises(noise, frame):
    """Any bytes: no exception, bounded buffer; the next frame after a delimiter is intact."""
    decoder = StreamDecoder()
    decoder.feed(noise)
    assert len(decoder._buf) <= MAX_FRAME
    assert decoder.feed(b"\x00" + frame.encode())[-1] == frame


@given(frames, st.data())
def test_truncated_frame_is_reported_and_the_next_one_kept(frame, data):
    wire = frame.encode()
    cut = data.draw(st.integers(1, len(wire) - 2))
    got = StreamDecoder().feed(wire[:cut] + b"\x00" + frame.encode())
    assert got[-1] == frame
    assert all(isinstance(g, BadFrame) for g in got[:-1])


@given(frames, st.data())
def test_a_flipped_byte_is_never_a_frame(frame, data):
    body = bytearray(frame.encode()[:-1])
    i = data.draw(st.integers(0, len(body) - 1))
    body[i] ^= data.draw(st.integers(1, 255))
    if 0 in body:  # the flip made a delimiter: two pieces, neither a frame
        pieces = StreamDecoder().feed(bytes(body) + b"\x00")
    else:
        pieces = [parse(bytes(body))]
    assert all(isinstance(p, BadFrame) for p in pieces)


def test_bad_frames_carry_the_right_status():
    good = Frame(7, Opcode.STATUS).encode()[:-1]
    corrupted = bytearray(good)
    corrupted[-1] ^= 0x10
    assert parse(bytes(corrupted)) == BadFrame(Status.BAD_CRC, 7, Opcode.STATUS, len(good))
    assert parse(cobs_encode(b"\x01\x07")).status is Status.BAD_LENGTH
    wrong_length = bytearray(b"\x01\x07\x02\x05\x00")  # says 5 payload bytes, has 0
    wrong_length += crc16(bytes(wrong_length)).to_bytes(2, "big")
    assert parse(cobs_encode(bytes(wrong_length))).status is Status.BAD_LENGTH
    overflow = StreamDecoder(max_frame=16).feed(b"\x11" * 40 + b"\x00")
    assert [b.status for b in overflow] == [Status.BAD_LENGTH]


# -- layouts ------------------------------------------------------------------------------
def test_identify_layout_covers_the_core_spec():
    names = {f.name for f in dataclasses.fields(CoreSpec)}
    assert names == set(SPEC_FIELDS) | {"stdp", "lanes"}  # lanes: a schedule, not arithmetic
    ident = Identity(1, CoreSpec(max_inputs=300, stdp=False), 12_000_000, 3_000_000, 4, 512, 32, 256)
    assert Identity.unpack(ident.pack()) == ident
    with pytest.raises(ValueError, match="magic"):
        Identity.unpack(b"XXXX\x01")


def test_spike_layouts_round_trip():
    record = SpikeRecord(65535, 123456, SpikeFlag.INPUT_LATE, np.array([0, 5, 255]))
    back = SpikeRecord.unpack(record.pack())
    assert (back.counter, back.timestep, back.flags) == (65535, 123456, SpikeFlag.INPUT_LATE)
    assert back.neurons.tolist() == [0, 5, 255]
    t, sources = unpack_spikes_in(pack_spikes_in(9, np.array([3, 1])))
    assert t == 9 and sources.tolist() == [3, 1]
    with pytest.raises(ValueError):
        unpack_spikes_in(pack_spikes_in(9, np.array([3, 1]))[:-1])
    status = DeviceStatus(True, 5, 2, SpikeFlag.TX_DROPPED)
    assert DeviceStatus.unpack(status.pack()) == status


def _random_words(rng, spec, region, index, count):
    fmt = word_format(spec, region, index, count)
    lo = np.where(fmt.signed, -(1 << (fmt.bits - 1)), 0)
    hi = np.where(fmt.signed, (1 << (fmt.bits - 1)) - 1, (1 << fmt.bits) - 1)
    words = lo + (rng.random(count) * (hi - lo + 1)).astype(np.int64)
    words[: min(count, 2)] = [lo[0], hi[0]][: min(count, 2)]  # the extremes travel too
    return words


@pytest.mark.parametrize("region", list(Region))
def test_words_round_trip_in_every_region(region):
    rng = np.random.default_rng(int(region))
    size = region_size(SPEC, region)
    for index in (0, 1, size // 3):
        count = min(size - index, 300)
        words = _random_words(rng, SPEC, region, index, count)
        data = encode_words(SPEC, region, index, words)
        assert len(data) == word_format(SPEC, region, index, count).total
        assert np.array_equal(decode_words(SPEC, region, index, count, data), words)


def test_words_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="signed 8-bit"):
        encode_words(SPEC, Region.FF_WEIGHT, 0, [128])
    with pytest.raises(ValueError, match="unsigned 16-bit"):
        encode_words(SPEC, Region.CONTROL, Control.N_NEURONS, [-1])
    with pytest.raises(ValueError, match="beyond its width"):  # an 18-bit word, not sign-extended
        decode_words(SPEC, Region.NEURON_STATE, 0, 1, b"\x00\x00\x04")
    with pytest.raises(ValueError, match="need 3 bytes"):
        decode_words(SPEC, Region.NEURON_STATE, 0, 1, b"\x00\x00")


# -- the simulated device: one answer per frame, NAKs with the right status ----------------
def _ask(device: DeviceModel, seq: int, opcode: int, payload: bytes = b"") -> tuple[Status, bytes]:
    replies = [
        f
        for f in StreamDecoder().feed(device.exchange(Frame(seq, opcode, payload).encode()))
        if f.opcode & REPLY
    ]
    assert len(replies) == 1 and replies[0].seq == seq and replies[0].opcode == (opcode | REPLY)
    status, _credits = REPLY_HEAD.unpack_from(replies[0].payload)
    return Status(status), replies[0].payload[REPLY_HEAD.size :]


def _write(region, index, words, spec=SMALL) -> bytes:
    return ADDRESS.pack(region, index, len(words)) + encode_words(spec, region, index, words)


def test_device_answers_every_kind_of_request():
    dev = DeviceModel(SMALL, input_depth=4, spike_log=2)
    status, data = _ask(dev, 1, Opcode.IDENTIFY)
    assert status is Status.OK and Identity.unpack(data).spec == SMALL
    assert _ask(dev, 2, Opcode.WRITE, _write(Region.REC_WEIGHT, 3, [1, -2, 3]))[0] is Status.OK
    status, data = _ask(dev, 3, Opcode.READ, ADDRESS.pack(Region.REC_WEIGHT, 3, 3))
    assert status is Status.OK and decode_words(
        SMALL, Region.REC_WEIGHT, 3, 3, data[ADDRESS.size :]
    ).tolist() == [1, -2, 3]
    assert _ask(dev, 4, 0x7F)[0] is Status.UNKNOWN_OPCODE
    assert _ask(dev, 5, Opcode.READ, ADDRESS.pack(Region.REC_WEIGHT, 60, 5))[0] is Status.ADDRESS_OUT_OF_RANGE
    assert _ask(dev, 6, Opcode.READ, ADDRESS.pack(42, 0, 1))[0] is Status.ADDRESS_OUT_OF_RANGE
    assert _ask(dev, 7, Opcode.WRITE, _write(Region.REC_WEIGHT, 0, [1, 2])[:-1])[0] is Status.BAD_LENGTH
    assert _ask(dev, 8, Opcode.STATUS, b"x")[0] is Status.BAD_LENGTH
    assert _ask(dev, 9, Opcode.WRITE, _write(Region.CONTROL, Control.STEP_COUNT, [0]))[0] is Status.READ_ONLY
    assert _ask(dev, 10, Opcode.WRITE, _write(Region.CONTROL, Control.N_NEURONS, [9]))[0] is Status.BAD_VALUE
    assert _ask(dev, 11, Opcode.SPIKES_IN, pack_spikes_in(0, np.array([8])))[0] is Status.ADDRESS_OUT_OF_RANGE
    assert (
        _ask(dev, 12, Opcode.SPIKES_IN, pack_spikes_in(4, np.array([1])))[0] is Status.BUSY
    )  # beyond the buffer
    assert _ask(dev, 13, Opcode.SPIKES_RESEND, SPIKES_RESEND.pack(0))[0] is Status.SPIKES_GONE
    wrong_version = Frame(14, Opcode.STATUS, version=2).encode()
    (nak,) = StreamDecoder().feed(dev.exchange(wrong_version))
    assert REPLY_HEAD.unpack_from(nak.payload)[0] == Status.BAD_VERSION


def test_device_naks_a_corrupted_frame_and_executes_nothing():
    dev = DeviceModel(SMALL)
    wire = bytearray(Frame(3, Opcode.WRITE, _write(Region.REC_WEIGHT, 0, [5])).encode())
    wire[-3] ^= 0x01  # a CRC byte
    (nak,) = StreamDecoder().feed(dev.exchange(bytes(wire)))
    assert nak.seq == 3 and REPLY_HEAD.unpack_from(nak.payload)[0] == Status.BAD_CRC
    assert dev.core.mem[Region.REC_WEIGHT][0] == 0


def test_repeated_step_is_executed_once_and_busy_while_running():
    dev = DeviceModel(SMALL)
    _ask(dev, 1, Opcode.IDENTIFY)
    status, data = _ask(dev, 2, Opcode.STEP, STEP.pack(3))
    assert status is Status.OK and STEP_REPLY.unpack(data) == (3, 0)
    status, data = _ask(dev, 2, Opcode.STEP, STEP.pack(3))  # the same frame again: its ACK was lost
    assert status is Status.DUPLICATE and STEP_REPLY.unpack(data) == (3, 0)
    assert _ask(dev, 3, Opcode.SPIKES_IN, pack_spikes_in(1, np.array([0])))[0] is Status.INPUT_LATE
    assert _ask(dev, 4, Opcode.RUN)[0] is Status.OK
    assert _ask(dev, 5, Opcode.WRITE, _write(Region.REC_WEIGHT, 0, [1]))[0] is Status.BUSY
    assert _ask(dev, 6, Opcode.STEP, STEP.pack(1))[0] is Status.BUSY
    dev.exchange(b"")  # an idle line during a free run: one timestep
    assert _ask(dev, 7, Opcode.HALT)[0] is Status.OK
    status, data = _ask(dev, 8, Opcode.STATUS)
    st_ = DeviceStatus.unpack(data)
    assert not st_.running and st_.timestep >= 4 and st_.flags & SpikeFlag.INPUT_LATE
    assert _ask(dev, 9, Opcode.RESET_STATE)[0] is Status.OK
    assert DeviceStatus.unpack(_ask(dev, 10, Opcode.STATUS)[1]).timestep == 0
    _ask(dev, 11, Opcode.WRITE, _write(Region.REC_WEIGHT, 0, [1]))
    assert _ask(dev, 12, Opcode.CLEAR_CONFIG)[0] is Status.OK
    assert dev.core.mem[Region.REC_WEIGHT][0] == 0


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_device_survives_any_bytes(noise):
    """Random bytes never raise; after a delimiter the device answers IDENTIFY as usual."""
    dev = DeviceModel(SMALL)
    dev.exchange(noise)
    replies = StreamDecoder().feed(dev.exchange(b"\x00" + Frame(200, Opcode.IDENTIFY).encode()))
    assert replies[-1].seq == 200 and replies[-1].opcode == Opcode.IDENTIFY | REPLY


# -- the command table: the device model and the driver's codecs agree with it -------------
def _table_request(op: Opcode, *, fields=None, tail=None) -> bytes:
    """A request of the table's layout: all-zero fields (a valid address, timestep 0, no
    count), and the tail those fields call for (none)."""
    fields = fields if fields is not None else (0,) * len(op.command.args.unpack(bytes(op.command.args.size)))
    return pack_request(op, *fields, tail=tail or b"")


@pytest.mark.parametrize("op", REQUESTS, ids=lambda op: op.name)
def test_device_model_follows_the_command_table(op):
    """Lengths, BUSY during a free run, DUPLICATE, and the reply's layout, for every row;
    the driver's codecs read the reply."""
    command = op.command
    dev = DeviceModel(SMALL, input_depth=4, spike_log=2)
    good = _table_request(op)
    if command.args.size:
        assert _ask(dev, 1, op, good[:-1])[0] is Status.BAD_LENGTH
    longer = _ask(dev, 2, op, good + b"\x00")[0]
    assert longer is Status.BAD_LENGTH  # no tail: too long; a tail: not the length its fields say
    status, data = _ask(dev, 3, op, good)
    assert status in (Status.OK, Status.SPIKES_GONE)  # SPIKES_RESEND: no record yet
    if status is Status.OK:
        fields, tail = unpack_reply(op, data)
        assert len(fields) == len(command.reply.unpack(bytes(command.reply.size)))
        again = _ask(dev, 3, op, good)
        assert again[0] is (Status.DUPLICATE if command.once else Status.OK)
        assert len(again[1]) == len(data) or op is Opcode.READ  # READ: same words, same length
    running = DeviceModel(SMALL, input_depth=4, spike_log=2)
    assert _ask(running, 1, Opcode.RUN)[0] is Status.OK
    busy = _ask(running, 2, op, good)[0]
    assert (busy is Status.BUSY) == command.halted, busy


def test_command_table_is_complete():
    """Every opcode but SPIKES_OUT has a row; the run-state set and the codecs follow it."""
    assert set(REQUESTS) == set(Opcode) - {Opcode.SPIKES_OUT}
    assert EXECUTE_ONCE == {op for op in REQUESTS if op.command.once}
    assert pack_request(Opcode.STEP, 3) == STEP.pack(3)
    assert unpack_reply(Opcode.STEP, STEP_REPLY.pack(5, 2)) == ((5, 2), b"")
    for bad in (b"", STEP_REPLY.pack(5, 2) + b"\x00"):
        with pytest.raises(ValueError):
            unpack_reply(Opcode.STEP, bad)
    record = SpikeRecord(1, 2, SpikeFlag(0), np.array([3, 4])).pack()
    assert unpack_reply(Opcode.SPIKES_RESEND, record)[1] == np.array([3, 4], "<u2").tobytes()
    with pytest.raises(ValueError):
        unpack_reply(Opcode.SPIKES_RESEND, record[:-1])
