"""Fault injection on the link: 1% of the bytes in each direction are dropped, duplicated
or bit-flipped between the driver and the simulated core. Every operation must complete,
and what is read back must equal what was meant: zero silent corruption."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import numpy as np
import pytest
from test_board import fixed_simulation, learning_network

from firmware_host.board import Board
from firmware_host.memory_map import Region, region_size
from firmware_host.transports import FaultInjector, FaultRates, FaultSpecError, fault_rates
from snn.core_spec import CoreSpec

# short frames survive a noisy line; more tries, since about one frame in three is hit
NOISY = dict(baud=3_000_000, timeout=0.01, retries=24, max_payload=48, faults=0.01)
REGIONS = (Region.FF_WEIGHT, Region.REC_WEIGHT, Region.NEURON_PARAM, Region.NEURON_STATE)
# the soak benchmark's module: its random words here, its soak below
_SOAK = importlib.util.spec_from_file_location(
    "link_soak", Path(__file__).parents[1] / "bench" / "link_soak.py"
)
link_soak = importlib.util.module_from_spec(_SOAK)
_SOAK.loader.exec_module(link_soak)


def test_a_thousand_operations_through_a_noisy_line():
    rng = np.random.default_rng(5)
    spec = CoreSpec(max_inputs=16, max_neurons=16)
    block = 16  # writes of one batch go to distinct blocks of 16 words: frames may land in any order
    with Board("sim", spec=spec, seed=3, **NOISY) as board:
        mirror = {r: np.zeros(region_size(spec, r), np.int64) for r in REGIONS}
        operations = 0
        while operations < 1000:
            writes = []
            for region in REGIONS:
                blocks = rng.choice(region_size(spec, region) // block, size=3, replace=False)
                for b in blocks:
                    index = int(b) * block + int(rng.integers(0, block // 2))
                    count = int(rng.integers(1, block // 2 + 1))
                    words = link_soak.random_words(rng, spec, region, index, count)
                    writes.append((region, index, words))
                    mirror[region][index : index + count] = words
            board.write(writes)
            reads = []
            for _ in range(8):
                region = REGIONS[int(rng.integers(len(REGIONS)))]
                index = int(rng.integers(0, region_size(spec, region) - 20))
                reads.append((region, index, int(rng.integers(1, 20))))
            for (region, index, count), got in zip(reads, board.read(reads)):
                assert np.array_equal(got, mirror[region][index : index + count])
            operations += len(writes) + len(reads)
        final = board.read([(r, 0, region_size(spec, r)) for r in REGIONS])
        for region, got in zip(REGIONS, final):
            assert np.array_equal(got, mirror[region]), region.name
        faults = board._server.device.counts
        stats = board.link.stats
    assert faults.dropped and faults.duplicated and faults.flipped
    assert stats.resent > 50 and stats.bad_frames > 50  # the link did have to recover


def test_load_run_read_through_a_noisy_line_equal_the_simulator():
    net = learning_network(steps=80)
    spec = CoreSpec(max_inputs=48, max_neurons=80)
    with Board("sim", spec=spec, seed=11, **NOISY) as board:
        q = board.load(net)
        spikes = board.run()
        weights = board.read_weights()
        state = board.read_state()
    steps, neurons, sim_state = fixed_simulation(net, q)
    assert np.array_equal(spikes.steps, steps) and np.array_equal(spikes.neurons, neurons)
    assert np.array_equal(weights.csr(q.built), sim_state["weight"])
    for key in ("v", "i_e", "i_i", "ref"):
        assert np.array_equal(state[key], sim_state[key]), key


# -- the injector, kind by kind ---------------------------------------------------------------
class _Recorder:
    """A byte device that keeps what it receives and sends nothing back."""

    def __init__(self) -> None:
        self.received = bytearray()

    def exchange(self, received: bytes) -> bytes:
        self.received += received
        return b""

    def idle(self) -> None:
        pass


class _Echo(_Recorder):
    def exchange(self, received: bytes) -> bytes:
        super().exchange(received)
        return received


FRAMES = [bytes([1 + (i * 7 + k) % 255 for k in range(5 + i % 20)]) + b"\x00" for i in range(200)]
STREAM = b"".join(FRAMES)


def _inject(spec: str, stream: bytes = STREAM, device=None, chunk: int = 37):
    """Push ``stream`` through an injector in chunks; return (what the device got, counts)."""
    device = device or _Recorder()
    inj = FaultInjector(device, spec)
    sent = bytearray()
    for i in range(0, len(stream), chunk):
        sent += inj.exchange(stream[i : i + chunk])
    return bytes(device.received), inj.counts, bytes(sent)


def test_fault_spec_text():
    rates = FaultRates.parse(
        "drop=0.01, dup=1%,flip=0.01,truncate=0.002,delay=0.001,per=frame,delay_ms=5,seed=9"
    )
    assert (rates.drop, rates.dup, rates.flip, rates.truncate, rates.delay) == (
        0.01,
        0.01,
        0.01,
        0.002,
        0.001,
    )
    assert (rates.per, rates.delay_ms, rates.seed) == ("frame", 5.0, 9)
    assert FaultRates.parse("duplicate=0.1").dup == 0.1 and not FaultRates.parse("none")
    assert fault_rates(0.03) == FaultRates(drop=0.01, dup=0.01, flip=0.01)
    assert fault_rates("drop=0.5", seed=4).seed == 4 and fault_rates("drop=0.5,seed=2", seed=4).seed == 2


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("drop=0.01,dupe=0.1", r"bad fault 'dupe=0.1': write KIND=RATE separated by commas"),
        ("drop", r"bad fault 'drop'"),
        ("drop=abc", r"bad fault 'drop=abc': 'abc' is not a number"),
        ("drop=1.5", r"fault rate drop=1.5 must be a number in \[0, 1\]"),
        ("drop=0.6,dup=0.6", r"fault rates add up to 1.2; at most 1 per byte"),
        ("drop=0.1,per=packet", r"per='packet': faults are per 'byte' or per 'frame'"),
        ("drop=0.1,drop=0.2", r"fault 'drop' given twice"),
        ("delay=0.1,delay_ms=-1", r"delay_ms=-1.0 must be a number of ms"),
        ("seed=-1", r"seed=-1 must be an integer >= 0"),
    ],
)
def test_bad_fault_spec(text, match):
    with pytest.raises(FaultSpecError, match=match) as info:
        FaultRates.parse(text)
    assert "\n" not in str(info.value)


def test_no_faults_pass_everything():
    got, counts, _ = _inject("drop=0")
    assert got == STREAM and counts.bytes == len(STREAM) and counts.dropped == 0


def test_drop_every_byte_and_every_frame():
    got, counts, _ = _inject("drop=1")
    assert got == b"" and counts.dropped == len(STREAM)
    got, counts, _ = _inject("drop=1,per=frame")
    assert got == b"" and counts.dropped == counts.frames == len(FRAMES)


def test_duplicate_every_byte_and_every_frame():
    got, counts, _ = _inject("dup=1")
    assert got == bytes(b for b in STREAM for _ in range(2)) and counts.duplicated == len(STREAM)
    got, counts, _ = _inject("dup=1,per=frame")
    assert got == b"".join(f + f for f in FRAMES) and counts.duplicated == len(FRAMES)


def test_flip_one_bit_per_byte_and_per_frame():
    got, counts, _ = _inject("flip=1")
    diff = np.frombuffer(got, np.uint8) ^ np.frombuffer(STREAM, np.uint8)
    assert np.all(np.unpackbits(diff[:, None], axis=1).sum(axis=1) == 1) and counts.flipped == len(STREAM)
    got, counts, _ = _inject("flip=1,per=frame")
    diff = np.frombuffer(got, np.uint8) ^ np.frombuffer(STREAM, np.uint8)
    starts = np.cumsum([0] + [len(f) for f in FRAMES])
    bits = np.unpackbits(diff).reshape(-1, 8).sum(axis=1)
    assert [int(bits[a:b].sum()) for a, b in zip(starts[:-1], starts[1:])] == [1] * len(FRAMES)


def test_truncate_cuts_frames_and_keeps_their_ends():
    got, counts, _ = _inject("truncate=1")
    assert got == b"\x00" * len(FRAMES) and counts.truncated == len(FRAMES)
    got, counts, _ = _inject("truncate=1,per=frame")
    pieces = got.split(b"\x00")[:-1]
    assert len(pieces) == len(FRAMES) and counts.truncated == len(FRAMES)
    assert all(len(p) < len(f) - 1 and f.startswith(p) for p, f in zip(pieces, FRAMES))


def test_delay_stalls_the_line_in_order():
    inj = FaultInjector(_Recorder(), "delay=1,per=frame,delay_ms=30")
    t0 = time.monotonic()
    inj.exchange(FRAMES[0] + FRAMES[1])
    assert inj.device.received == b""
    while inj.device.received != FRAMES[0] + FRAMES[1]:
        inj.exchange(b"")
        assert time.monotonic() - t0 < 5
    assert time.monotonic() - t0 >= 0.06 and inj.counts.delayed == 2  # two stalls, one after the other


def test_rates_per_kind_and_both_directions():
    """Each kind at its own rate (within 5 standard deviations), counted in both directions."""
    rates = dict(drop=0.01, dup=0.02, flip=0.005, truncate=0.001)
    stream = STREAM * 50
    _, counts, echoed = _inject(",".join(f"{k}={v}" for k, v in rates.items()), stream, _Echo(), chunk=500)
    assert counts.bytes > len(stream) and len(echoed) > 0  # the echo went back through
    for kind, name in (("drop", "dropped"), ("dup", "duplicated"), ("flip", "flipped")):
        n, p = counts.bytes, rates[kind]
        assert abs(getattr(counts, name) - n * p) < 5 * (n * p * (1 - p)) ** 0.5, (
            kind,
            getattr(counts, name),
        )
    assert counts.truncated > 0


# -- the CLI and the soak ----------------------------------------------------------------------
def test_board_cli_faults(capsys):
    from snn.cli import main

    assert (
        main(
            [
                "board",
                "info",
                "--port",
                "sim",
                "--baud",
                "3000000",
                "--faults",
                "drop=0.01,dup=0.01,flip=0.01",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("port sim at 3000000 baud: snn core")
    assert re.fullmatch(r"faults injected \(drop=0.01,dup=0.01,flip=0.01 per byte\): \d+ dropped, \d+ duplicated, "
                        r"\d+ flipped, 0 truncated, 0 delayed, in [\d,]+ bytes", out[-1])  # fmt: skip
    for args, match in (
        (["--port", "sim", "--faults", "drop=2"], "fault rate drop=2.0 must be a number in [0, 1]"),
        (["--port", "/dev/null", "--faults", "drop=0.01"], "--faults applies to --port sim only"),
    ):
        assert main(["board", "info", *args]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1 and match in captured.err, captured


def test_soak_finds_no_silent_corruption():
    small = CoreSpec(max_inputs=16, max_neurons=16)
    result = link_soak.soak(128, "drop=0.01,dup=0.01,flip=0.01", seed=1, spec=small, words=16, batch=16)
    assert result["operations"] == 128 and result["silent_corruptions"] == 0 and result["errors"] == 0
    injected = result["injected"]
    assert injected["dropped"] and injected["duplicated"] and injected["flipped"]
    assert result["link"]["resent"] > 0 and 0 < result["payload_over_line"] < 1
