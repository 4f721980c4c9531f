"""Limits checked before allocating: every malformed or oversized input of issue 15 ends in one
NetworkError line (API, file) and, through ``snn validate|info|run``, in one stderr line and exit
status 2: no traceback, no hang, no numpy warning."""

from __future__ import annotations

import io as bytes_io
import os
import re
import warnings
import zipfile

import numpy as np
import pytest

import snn
from snn import io, limits
from snn.build import poisson_steps
from snn.cli import main
from snn.quantize import QuantizationWarning

HEAD = 'format = "snn-network/1"\n'
NET = "[network]\ndt_ms = 0.1\nduration_ms = 10.0\n"
LIF = '[populations.exc]\nkind = "lif"\nn = 3\n'
POISSON = '[populations.src]\nkind = "poisson"\nn = 4\nrate_hz = 10.0\n'
PROJ = '[projections.p]\npre = "src"\npost = "exc"\nconnectivity = { rule = "all_to_all" }\n'


def _header_only_npz(path, shape) -> None:
    """An npz whose single member ``ids.npy`` claims ``shape`` but holds 8 int64 values."""
    buf = bytes_io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<i8", "fortran_order": False, "shape": shape})
    buf.write(np.zeros(8, np.int64).tobytes())
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ids.npy", buf.getvalue())


# (id, TOML text, make the sidecar or None, distinctive part of the one-line message)
CASES = [
    (
        "dt-1e-300-poisson",
        HEAD + "[network]\ndt_ms = 1e-300\n" + POISSON + LIF + PROJ,
        None,
        r"network: dt 1e-300 ms is below the smallest timestep of 1e-06 ms",
    ),
    (
        "lif-10^13",
        HEAD + '[populations.exc]\nkind = "lif"\nn = 10000000000000\n',
        None,
        r"populations\.exc: population 'exc': n = 10,000,000,000,000 is more than the limit of 2,147,483,647",
    ),
    (
        "all-to-all-3e6",
        HEAD + NET + '[populations.exc]\nkind = "lif"\nn = 3000000\n'
        '[projections.ee]\npre = "exc"\npost = "exc"\nconnectivity = { rule = "all_to_all" }\n',
        None,
        r"network needs at least 131 TiB \(neurons .*, synapses 131 TiB, inputs .*\), more than the budget of",
    ),
    (
        "duration-1e15",
        HEAD + "[network]\ndt_ms = 0.1\nduration_ms = 1e15\n" + LIF,
        None,
        r"duration 1e\+15 ms at dt 0.1 ms is 1e\+16 timesteps, more than the limit of 2,147,483,647",
    ),
    (
        "npz-header-10^12",
        HEAD + '[populations.s]\nkind = "spikes"\nn = 4\nids = "npz:ids"\nsteps = [1]\n',
        lambda p: _header_only_npz(p, (10**12,)),
        r"array 'ids' of bad\.npz claims shape \(1000000000000,\) \(1,000,000,000,000 elements, 7\.28 TiB\) "
        r"but holds 64 B; the file is truncated or corrupt",
    ),
    (
        "poisson-seed-negative",
        HEAD + NET + POISSON + "seed = -1\n",
        None,
        r"populations\.src: population 'src': seed must be an integer in \[0, 2\*\*64 - 1\] or None, got -1",
    ),
    (
        "projection-seed-negative",
        HEAD + NET + POISSON + LIF + PROJ + "seed = -5\n",
        None,
        r"projections\.p: projection 'p': seed must be an integer in \[0, 2\*\*64 - 1\] or None, got -5",
    ),
    (
        "network-seed-negative",
        HEAD + NET + "seed = -2\n",
        None,
        r"network: network: seed must be an integer in \[0, 2\*\*64 - 1\], got -2",
    ),
    (
        "spike-step-1e30",
        HEAD + NET + '[populations.s]\nkind = "spikes"\nn = 2\nids = [0]\nsteps = [1e30]\n',
        None,
        r"population 's': steps: step 1e\+30 is beyond the limit of 2,147,483,647 timesteps",
    ),
    (
        "spike-time-1e30",
        HEAD + NET + '[populations.s]\nkind = "spikes"\nn = 2\nids = [0]\ntimes_ms = [1e30]\n',
        None,
        r"population 's': spike time 1e\+30 ms is beyond the limit of 2,147,483,647 timesteps of 0\.1 ms",
    ),
    (
        "spike-id-1e30",
        HEAD + NET + '[populations.s]\nkind = "spikes"\nn = 2\nids = [1e30]\nsteps = [1]\n',
        None,
        r"population 's': ids: expected integers that fit 64 bits",
    ),
    (
        "poisson-rate-above-1/dt",
        HEAD + NET + '[populations.src]\nkind = "poisson"\nn = 4\nrate_hz = 20000.0\n',
        None,
        r"population 'src': rate 20000 Hz is above 1/dt = 10000 Hz",
    ),
    (
        "t-ref-beyond-steps",
        HEAD + NET + '[populations.exc]\nkind = "lif"\nn = 3\nt_ref_ms = 1e300\n',
        None,
        r"population 'exc': t_ref 1e\+300 ms is longer than 2,147,483,647 timesteps",
    ),
    (
        "tau-m-denormal",
        HEAD + NET + '[populations.exc]\nkind = "lif"\nn = 3\ntau_m_ms = 5e-324\n',
        None,
        r"population 'exc': tau_m: 4\.94066e-324 ms is below the smallest time constant of 1e-06 ms",
    ),
]
IDS = [c[0] for c in CASES]


def _write(tmp_path, text, sidecar):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    if sidecar is not None:
        sidecar(path.with_suffix(".npz"))
    return path


@pytest.mark.parametrize(("text", "sidecar", "match"), [c[1:] for c in CASES], ids=IDS)
def test_file_fails_in_one_line_without_warnings(tmp_path, text, sidecar, match):
    path = _write(tmp_path, text, sidecar)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning on the way
        with pytest.raises(snn.NetworkError) as info:
            io.load(path).build()
    message = str(info.value)
    assert "\n" not in message and re.search(match, message), message


@pytest.mark.parametrize("command", ["validate", "info", "run"])
@pytest.mark.parametrize(("text", "sidecar", "match"), [c[1:] for c in CASES], ids=IDS)
def test_cli_prints_one_line_and_exits_2(tmp_path, capsys, command, text, sidecar, match):
    path = _write(tmp_path, text, sidecar)
    assert main([command, str(path), *(["--quiet"] if command == "run" else [])]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1, captured
    assert lines[0].startswith(f"snn {command}: error: {path}: ") and re.search(match, lines[0]), lines[0]


def test_self_referencing_symlink_is_named_by_path(tmp_path, capsys):
    path = tmp_path / "loop.toml"
    path.symlink_to(path)
    with pytest.raises(
        snn.NetworkError, match=r"loop\.toml: cannot be read \(Too many levels of symbolic links\)"
    ):
        io.load(path)
    for command in ("validate", "info", "run"):
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"{path}: cannot be read" in err[0], err


def test_run_duration_option_is_checked_too(tmp_path, capsys):
    path = tmp_path / "ok.toml"
    path.write_text(HEAD + NET + LIF)
    assert main(["run", str(path), "--quiet", "--duration", "1e15"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1e+16 timesteps, more than the limit" in err[0], err


# -- the API meets the same checks ----------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: snn.Network(dt=1e-300), r"dt 1e-300 ms is below the smallest timestep"),
        (lambda: snn.Network(duration=1e15), r"1e\+16 timesteps, more than the limit"),
        (lambda: snn.Network(seed=-1), r"seed must be an integer in \[0, 2\*\*64 - 1\], got -1"),
        (lambda: snn.Network(seed=2**64), r"seed must be an integer"),
        (lambda: snn.Network().lif("x", 10**13), r"n = 10,000,000,000,000 is more than the limit"),
        (lambda: snn.Network().poisson("p", 2, rate=1.0, seed=-1), r"population 'p': seed must be"),
        (lambda: snn.Network().spikes("s", 2, [0], steps=[1e30]), r"step 1e\+30 is beyond the limit"),
        (lambda: snn.Network().spikes("s", 2, [0], steps=[-3]), r"steps must be >= 0, got -3"),
        (lambda: snn.Network().spikes("s", 2, [0], steps=[1.5]), r"1\.5 is not a whole number of steps"),
        (lambda: snn.SpikeSource.from_trains("s", [[1e30]], in_steps=True), r"step 1e\+30 is beyond"),
    ],
    ids=[
        "dt",
        "duration",
        "seed",
        "seed-2^64",
        "n",
        "poisson-seed",
        "step-1e30",
        "step-negative",
        "step-fraction",
        "from-trains",
    ],
)
def test_api_boundary(call, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(snn.NetworkError, match=match) as info:
            call()
    assert "\n" not in str(info.value)


def test_projection_seed_and_simulate_duration():
    net = snn.Network()
    net.poisson("src", 2, rate=10.0)
    net.lif("exc", 2)
    with pytest.raises(
        snn.NetworkError, match=r"projection 'p': seed must be an integer in \[0, 2\*\*64 - 1\]"
    ):
        net.connect("p", "src", "exc", seed=-1)
    with pytest.raises(snn.NetworkError, match=r"more than the limit of 2,147,483,647"):
        snn.simulate(net, duration=1e15)


# -- the memory budget ------------------------------------------------------------------------
def _medium() -> snn.Network:
    net = snn.Network(dt=0.1, duration=100.0)
    net.poisson("src", 100, rate=50.0)
    net.lif("exc", 1000)
    net.connect("p", "src", "exc", snn.FixedProbability(0.5))
    net.record_state("exc", every=1)
    return net


def test_estimate_counts_each_item():
    est = limits.estimate_memory(_medium())
    assert est.neurons == 1000 * (limits.BYTES_PER_NEURON + limits.BYTES_PER_SAMPLE)  # delay 1
    assert est.synapses == 50_000 * limits.BYTES_PER_SYNAPSE
    assert est.recordings == 1000 * 1 * 1001 * limits.BYTES_PER_SAMPLE  # v of 1000 neurons, 1001 samples
    spikes = 100 * 50.0 * 0.1 / 1000.0 * 1000
    assert est.inputs == 8 * 1001 + int(16 * spikes) + 8 * 100
    assert est.total == est.neurons + est.synapses + est.recordings + est.inputs


def test_budget_from_the_environment(monkeypatch):
    net = _medium()
    monkeypatch.setenv(limits.BUDGET_ENV, "1M")
    with pytest.raises(snn.NetworkError) as info:
        net.build()
    message = str(info.value)
    assert re.fullmatch(
        r"network needs at least 4\.69 MiB \(neurons 97\.7 KiB, synapses 781 KiB, recordings 3\.82 MiB, "
        r"inputs 16\.4 KiB\), more than the budget of 1 MiB \(set by SNN_MEMORY_BUDGET\); make it smaller, "
        r"record less, or raise SNN_MEMORY_BUDGET",
        message,
    ), message
    monkeypatch.setenv(limits.BUDGET_ENV, "64M")
    assert net.build().n_neurons == 1000
    monkeypatch.setenv(limits.BUDGET_ENV, "off")
    assert limits.memory_budget() is None
    monkeypatch.setenv(limits.BUDGET_ENV, "lots")
    with pytest.raises(snn.NetworkError, match=r"SNN_MEMORY_BUDGET='lots' is not a memory size"):
        net.build()


def test_default_budget_is_the_available_memory(monkeypatch):
    monkeypatch.delenv(limits.BUDGET_ENV, raising=False)
    available = limits.available_memory()
    assert available is not None and available > 0
    assert limits.memory_budget() == available


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8G", 8 * 2**30), ("512M", 512 * 2**20), ("1.5GB", 3 * 2**29), ("2KiB", 2048), ("1000", 1000)],
)
def test_parse_bytes(text, expected):
    assert limits.parse_bytes(text) == expected


def test_npz_array_beyond_the_budget(tmp_path, monkeypatch):
    net = snn.Network()
    net.spikes("s", 10**6, ids=np.arange(10**6), steps=np.zeros(10**6, np.int64))
    path = io.save(net, tmp_path / "big.toml")
    monkeypatch.setenv(limits.BUDGET_ENV, "1M")
    with pytest.raises(snn.NetworkError, match=r"array 'populations\.s\.ids' of big\.npz is 7\.63 MiB .*"
                       r"more than the memory budget of 1 MiB"):  # fmt: skip
        io.load(path)


# -- geometric gaps that saturate at the int64 maximum end, and stay right ------------------
def test_tiny_poisson_rate_ends_without_spikes():
    ids, steps = poisson_steps(1e-300, 3, 0.1, 1000, np.random.default_rng(0))
    assert ids.size == 0 and steps.size == 0
    net = snn.Network(dt=1e-6, duration=1.0)  # a million steps, p = 1e-12 per step
    net.poisson("src", 3, rate=1e-3)
    assert net.build().input_ids.size == 0


def test_tiny_connection_probability_ends_without_synapses():
    pre, post = snn.FixedProbability(1e-300).pairs(10**5, 10**5, False, np.random.default_rng(0))
    assert pre.size == 0 and post.size == 0
    pre, post = snn.FixedProbability(0.01).pairs(200, 300, False, np.random.default_rng(1))
    flat = pre * 300 + post
    assert np.all(np.diff(flat) > 0) and flat.max() < 200 * 300 and 450 < flat.size < 750


def test_pipes_devices_and_huge_files_are_not_read(tmp_path, monkeypatch, capsys):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # opening it would block until a writer came
    for path in (fifo, "/dev/zero"):  # /dev/zero would never end
        with pytest.raises(snn.NetworkError, match=r": is not a regular file \(a pipe or a device\)"):
            io.load(path)
        assert main(["validate", str(path)]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    big = tmp_path / "big.toml"
    big.write_text(HEAD + NET + "# " + "x" * 2000 + "\n")
    monkeypatch.setattr(io, "MAX_TOML_BYTES", 1024)
    with pytest.raises(
        snn.NetworkError, match=r"big\.toml: is 2\.0\d KiB, more than the 1 KiB a network description"
    ):
        io.load(big)


def test_huge_finite_parameters_quantize_without_wrapping():
    """2**53 mV is finite, so the file is valid; fixed mode says it does not fit, no int64 wraps."""
    net = snn.Network(dt=0.1, duration=2.0)
    net.lif("exc", 3, v_rest=2.0**53)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(snn.FitError, match=r"v_inf = 9\.0072e\+15 mV does not fit the core's 18-bit v"):
            snn.simulate(net, "fixed", progress=False)
        with pytest.warns(QuantizationWarning, match=r"v_inf = 9\.0072e\+15 mV does not fit .*; clipped"):
            assert snn.quantize(net, clip=True, require_fit=False).v_inf.min() > 0  # clipped, not wrapped
