"""The command engine and the core in the Amaranth simulator, at the byte level.

The same byte stream goes to the RTL (:class:`hdl.link.rtl_device.RtlDevice`) and to the
Python device model with the same advertised buffers: every reply and every SPIKES_OUT
frame must be the same, byte for byte. A small network is loaded, read back, reset and
stepped with its input spikes; its output spikes and final weights must equal the fixed
mode of the simulator. Then a run of malformed and refused requests, one per status code.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_board import fixed_simulation

from firmware_host.device_model import DeviceModel
from firmware_host.framing import Frame, StreamDecoder
from firmware_host.memory_map import Control, Region, core_image
from firmware_host.protocol import (
    ADDRESS,
    REPLY,
    STEP,
    Opcode,
    SpikeFlag,
    SpikeRecord,
    Status,
    encode_words,
    pack_spikes_in,
    word_format,
)
from hdl.link.params import identity
from hdl.link.rtl_device import RtlDevice
from snn.core_spec import CoreSpec
from snn.testing.random_networks import random_case

SPEC = CoreSpec(max_inputs=8, max_neurons=8)
STEPS = 30


class Pair:
    """The RTL and the model side by side; ``send`` returns the RTL's frames after checking
    that the model sent the same bytes."""

    def __init__(self, spec: CoreSpec):
        self.rtl = RtlDevice(spec)
        ident = identity(spec, self.rtl.params)
        self.model = DeviceModel.advertising(spec, ident)
        self.ident = ident
        self.seq = 0
        self.records: list[SpikeRecord] = []

    def raw(self, data: bytes) -> list[Frame]:
        got, want = self.rtl.exchange(data), self.model.exchange(data)
        frames = StreamDecoder().feed(got)
        assert got == want, f"RTL {frames} != model {StreamDecoder().feed(want)}"
        for f in frames:
            if f.opcode == Opcode.SPIKES_OUT:
                self.records.append(SpikeRecord.unpack(f.payload))
        return [f for f in frames if f.opcode != Opcode.SPIKES_OUT]

    def send(self, opcode: int, payload: bytes = b"", *, seq: int | None = None) -> tuple[Status, bytes]:
        if seq is None:
            self.seq = (self.seq + 1) & 0xFF
            seq = self.seq
        (reply,) = self.raw(Frame(seq, opcode, payload).encode())
        assert reply.seq == seq and reply.opcode == opcode | REPLY
        return Status(reply.payload[0]), reply.payload[2:]

    def write(self, region, index, words) -> Status:
        data = encode_words(SPEC, region, index, words)
        return self.send(Opcode.WRITE, ADDRESS.pack(region, index, len(words)) + data)[0]

    def read(self, region, index, count) -> tuple[Status, bytes]:
        return self.send(Opcode.READ, ADDRESS.pack(region, index, count))


def _chunks(region, index, words, room):
    """Split a burst write into frames of at most ``room`` payload bytes."""
    sizes = word_format(SPEC, region, index, len(words)).nbytes
    start = 0
    while start < len(words):
        take = max(1, int(np.searchsorted(np.cumsum(sizes[start:]), room - ADDRESS.size, side="right")))
        yield index + start, words[start : start + take]
        start += take


@pytest.fixture(scope="module")
def pair():
    return Pair(SPEC)


def test_identify(pair):
    (reply,) = pair.raw(b"\x00" + Frame(1, Opcode.IDENTIFY).encode())
    assert reply.payload[2:] == pair.ident.pack()


def test_load_step_read_equal_the_fixed_simulator(pair):
    net, q = random_case(12, stdp=True, max_inputs=8, max_neurons=8, n_steps=STEPS)
    image = core_image(dataclasses.replace(q, spec=SPEC))
    room = pair.ident.max_payload
    for region, index, words in image.writes():
        for i, w in _chunks(region, index, np.asarray(words), room):
            assert pair.write(region, i, w) is Status.OK
            status, data = pair.read(region, i, len(w))
            assert status is Status.OK and data[ADDRESS.size :] == encode_words(SPEC, region, i, w)
    assert pair.send(Opcode.RESET_STATE)[0] is Status.OK
    b = q.built
    for t in range(STEPS):
        sources = b.input_ids[b.input_ptr[t] : b.input_ptr[t + 1]]
        if sources.size:
            assert pair.send(Opcode.SPIKES_IN, pack_spikes_in(t, sources))[0] is Status.OK
        status, data = pair.send(Opcode.STEP, STEP.pack(1))
        assert status is Status.OK
    steps, neurons, state = fixed_simulation(net, q)
    got_steps = np.concatenate([np.full(r.neurons.size, r.timestep) for r in pair.records])
    got_neurons = np.concatenate([r.neurons for r in pair.records])
    assert steps.size > 5
    assert np.array_equal(got_steps, steps) and np.array_equal(got_neurons, neurons)
    n, k = b.n_neurons, b.n_sources
    want = core_image(dataclasses.replace(q, spec=SPEC, weight=state["weight"]))
    for region, matrix, rows in ((Region.FF_WEIGHT, want.ff, k), (Region.REC_WEIGHT, want.rec, n)):
        for r in range(rows):
            status, data = pair.read(region, r * SPEC.max_neurons, n)
            assert np.array_equal(np.frombuffer(data[ADDRESS.size :], np.int8), matrix[r, :n]), (region, r)
    # the last record again, then STATUS
    last = pair.records[-1]
    status, data = pair.send(Opcode.SPIKES_RESEND, last.counter.to_bytes(2, "little"))
    assert status is Status.OK and data == last.pack()
    assert pair.send(Opcode.STATUS)[0] is Status.OK


def test_refusals(pair):
    bad = bytearray(Frame(9, Opcode.STATUS).encode())
    bad[2] ^= 1
    assert [f.payload[0] for f in pair.raw(bytes(bad))] == [Status.BAD_CRC]
    assert [f.payload[0] for f in pair.raw(Frame(9, Opcode.STATUS, b"x").encode())] == [Status.BAD_LENGTH]
    assert pair.send(0x55)[0] is Status.UNKNOWN_OPCODE
    assert pair.raw(Frame(3, Opcode.STATUS, version=2).encode())[0].payload[0] == Status.BAD_VERSION
    assert (
        pair.read(Region.FF_WEIGHT, SPEC.max_inputs * SPEC.max_neurons - 1, 2)[0]
        is Status.ADDRESS_OUT_OF_RANGE
    )
    assert pair.read(9, 0, 1)[0] is Status.ADDRESS_OUT_OF_RANGE
    assert pair.send(Opcode.READ, ADDRESS.pack(Region.FF_WEIGHT, 0, 1) + b"\x00")[0] is Status.BAD_LENGTH
    assert pair.send(Opcode.WRITE, ADDRESS.pack(Region.FF_WEIGHT, 0, 2) + b"\x01")[0] is Status.BAD_LENGTH
    # a 1-bit enable word with bit 1 set, a v word whose top byte is not a sign extension
    assert (
        pair.send(Opcode.WRITE, ADDRESS.pack(Region.STDP_ROW_ENABLE, 0, 1) + b"\x02")[0] is Status.BAD_VALUE
    )
    assert (
        pair.send(Opcode.WRITE, ADDRESS.pack(Region.NEURON_STATE, 0, 1) + b"\x00\x00\x7f")[0]
        is Status.BAD_VALUE
    )
    assert pair.write(Region.CONTROL, Control.N_NEURONS, [SPEC.max_neurons + 1]) is Status.BAD_VALUE
    assert pair.write(Region.CONTROL, Control.STEP_COUNT, [0]) is Status.READ_ONLY
    # timestep 0 has run whatever this module's pair did before (the fixture is shared)
    assert pair.send(Opcode.STEP, STEP.pack(1))[0] is Status.OK
    assert pair.send(Opcode.SPIKES_IN, pack_spikes_in(0, [1]))[0] is Status.INPUT_LATE
    status, data = pair.send(Opcode.STEP, STEP.pack(0))
    now = int.from_bytes(data[:4], "little")
    assert (
        pair.send(Opcode.SPIKES_IN, pack_spikes_in(now, [SPEC.max_inputs]))[0] is Status.ADDRESS_OUT_OF_RANGE
    )
    assert pair.send(Opcode.SPIKES_IN, pack_spikes_in(now + 100, [0]))[0] is Status.BUSY
    assert pair.send(Opcode.SPIKES_IN, pack_spikes_in(now, [0, 1]) + b"\x00")[0] is Status.BAD_LENGTH
    assert pair.send(Opcode.SPIKES_RESEND, b"\x99\x99")[0] is Status.SPIKES_GONE
    # run-state commands: once per seq
    assert pair.send(Opcode.STEP, STEP.pack(2), seq=200)[0] is Status.OK
    status, data = pair.send(Opcode.STEP, STEP.pack(2), seq=200)
    assert status is Status.DUPLICATE and int.from_bytes(data[:4], "little") == now + 2
    assert pair.send(Opcode.CLEAR_CONFIG)[0] is Status.OK
    assert pair.read(Region.NEURON_PARAM, 0, 16)[1][ADDRESS.size :] == bytes(
        len(pair.read(Region.NEURON_PARAM, 0, 16)[1]) - ADDRESS.size
    )
    assert pair.send(Opcode.RESET_STATE)[0] is Status.OK


def test_free_run_and_halt():
    rtl = RtlDevice(SPEC)

    def send(seq, opcode, payload=b""):
        frames = [f for f in StreamDecoder().feed(rtl.exchange(Frame(seq, opcode, payload).encode()))]
        (reply,) = [f for f in frames if f.opcode == opcode | REPLY]
        return Status(reply.payload[0]), reply.payload[2:]

    assert send(1, Opcode.RUN)[0] is Status.OK
    assert send(2, Opcode.RUN)[0] is Status.OK  # already running: nothing changes
    rtl.exchange(b"")  # a while of free run
    status, data = send(3, Opcode.STATUS)
    running, t0 = data[0], int.from_bytes(data[1:5], "little")
    assert running == 1 and t0 > 0
    assert send(4, Opcode.WRITE, ADDRESS.pack(Region.FF_WEIGHT, 0, 1) + b"\x01")[0] is Status.BUSY
    assert send(5, Opcode.STEP, STEP.pack(1))[0] is Status.BUSY
    assert send(6, Opcode.SPIKES_IN, pack_spikes_in(0, [1, 2]))[0] is Status.INPUT_LATE
    assert send(7, Opcode.HALT)[0] is Status.OK
    assert send(7, Opcode.HALT)[0] is Status.DUPLICATE
    status, data = send(8, Opcode.STATUS)
    t1 = int.from_bytes(data[1:5], "little")
    assert data[0] == 0 and t1 > t0 and data[7] == SpikeFlag.INPUT_LATE  # sticky
    assert send(9, Opcode.STATUS)[1][1:5] == data[1:5]  # halted: time stands still
    assert (
        send(10, Opcode.READ, ADDRESS.pack(Region.CONTROL, Control.STEP_COUNT, 1))[1][ADDRESS.size :]
        == data[1:5]
    )


def test_clear_config_zeroes_every_config_word():
    """CLEAR_CONFIG as the engine walks it: every configuration word of every region
    (first and last words set beforehand), nothing else; read back equal to the model."""
    from firmware_host.memory_map import CONFIG_REGIONS, region_size

    p = Pair(SPEC)
    for region in [*CONFIG_REGIONS, Region.NEURON_STATE]:
        size = region_size(SPEC, region)
        last = Control.N_NEURONS if region is Region.CONTROL else size - 1
        assert p.write(region, 0, [1]) is Status.OK
        assert p.write(region, last, [1]) is Status.OK
    assert p.send(Opcode.CLEAR_CONFIG)[0] is Status.OK
    for region in [*CONFIG_REGIONS, Region.NEURON_STATE]:
        size = region_size(SPEC, region)
        for index in range(0, size, 16):
            status, data = p.read(region, index, min(16, size - index))
            assert status is Status.OK
            if region is not Region.NEURON_STATE and region is not Region.CONTROL:
                assert not any(data[ADDRESS.size :])
