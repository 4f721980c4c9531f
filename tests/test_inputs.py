"""Run-time inputs: ``simulate(net, inputs={name: (steps, n) 0/1 array})`` and ``snn run --inputs``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import snn
from snn.cli import main


def _net(spike_steps=None):
    """Two sources into one LIF group; ``spike_steps``: (steps, ids) for the 'input' source."""
    net = snn.Network(dt=0.1, duration=5.0, seed=1)
    steps, ids = spike_steps if spike_steps is not None else ([0], [0])
    net.spikes("input", 4, ids=ids, steps=steps)
    net.poisson("noise", 3, rate=400.0)
    out = net.lif("out", 5, v_rest=0.0, v_reset=0.0, v_thresh=0.5, v_init=0.0, t_ref=0.0, tau_syn_e=1.0)
    w = np.abs(np.random.default_rng(0).normal(1.0, 0.5, (4, 5)))
    net.connect("a", "input", out, weight=w)
    net.connect("b", "noise", out, weight=0.3)
    net.record_spikes(out)
    return net


def _x(steps=80, seed=2):
    return np.random.default_rng(seed).random((steps, 4)) < 0.2


def _same(a, b):
    return np.array_equal(a.steps, b.steps) and np.array_equal(a.ids, b.ids)


@pytest.mark.parametrize("mode", ["float", "fixed"])
def test_inputs_replace_the_named_source(mode):
    x = _x()
    got = snn.simulate(_net(), mode, inputs={"input": x})
    assert got.n_steps == x.shape[0]  # the run lasts as long as the inputs
    t, k = np.nonzero(x)
    want = snn.simulate(_net((t, k)), mode, duration=x.shape[0] * 0.1)
    assert _same(got.spikes["out"], want.spikes["out"]) and len(got.spikes["out"]) > 0


def test_simulator_takes_inputs_and_runs_in_pieces():
    x = _x()  # 80 steps: the Poisson source's spikes must cover them too
    sim = snn.Simulator(dataclasses.replace(_net(), duration=8.0), inputs={"input": x})
    sim.run(30)
    sim.run(50)
    whole = snn.simulate(_net(), inputs={"input": x})
    assert _same(sim.results().spikes["out"], whole.spikes["out"])


@pytest.mark.parametrize("mode", ["float", "fixed"])
def test_torch_backend_takes_a_batch_of_inputs_by_name(mode):
    pytest.importorskip("torch")
    xs = np.stack([_x(seed=s) for s in (3, 4, 5)])
    kwargs = {"dtype": "float64"} if mode == "float" else {}
    got = snn.simulate(_net(), mode, backend="torch", inputs={"input": xs}, **kwargs)
    assert len(got) == 3
    for x, res in zip(xs, got):
        assert _same(res.spikes["out"], snn.simulate(_net(), mode, inputs={"input": x}).spikes["out"])


@pytest.mark.parametrize(
    "inputs, message",
    [
        ({"out": np.zeros((5, 5))}, "is a LIF group"),
        ({"nope": np.zeros((5, 4))}, "unknown population 'nope'"),
        ({"input": np.zeros((5, 3))}, "expected (steps, n) with n = 4"),
        ({"input": np.full((5, 4), 2)}, "values must be 0 or 1"),
        ({"input": np.zeros(4)}, "shape (4,)"),
        ({"input": np.zeros((5, 4)), "noise": np.zeros((6, 3))}, "same number of steps"),
        ({}, "empty dict"),
        ([np.zeros((5, 4))], "must be a dict"),
    ],
)
def test_bad_inputs_are_one_line_errors(inputs, message):
    with pytest.raises(snn.NetworkError, match=None) as info:
        snn.Simulator(_net(), inputs=inputs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_run_inputs(tmp_path, capsys):
    x = _x()
    net_path = tmp_path / "net.toml"
    snn.io.save(_net(), net_path)
    np.savez(tmp_path / "x.npz", input=x)
    assert (
        main(
            [
                "run",
                str(net_path),
                "--inputs",
                str(tmp_path / "x.npz"),
                "--quiet",
                "--out",
                str(tmp_path / "r.npz"),
            ]
        )
        == 0
    )
    res = snn.Results.load(tmp_path / "r.npz")
    assert _same(res.spikes["out"], snn.simulate(_net(), inputs={"input": x}).spikes["out"])
    np.save(tmp_path / "x.npy", x)  # a .npy goes to the only source, or to the one named 'input'
    assert (
        main(
            [
                "run",
                str(net_path),
                "--inputs",
                str(tmp_path / "x.npy"),
                "--quiet",
                "--out",
                str(tmp_path / "s.npz"),
            ]
        )
        == 0
    )
    assert _same(snn.Results.load(tmp_path / "s.npz").spikes["out"], res.spikes["out"])
    other = _net()
    other.poisson("more", 2, rate=10.0)
    del other.populations["input"], other.projections["a"]
    snn.io.save(other, tmp_path / "other.toml")
    assert main(["run", str(tmp_path / "other.toml"), "--inputs", str(tmp_path / "x.npy"), "--quiet"]) == 2
    assert "exactly one spike source" in capsys.readouterr().err


def test_simulator_run_streams_inputs_piece_by_piece():
    x = _x()
    net = dataclasses.replace(_net(), duration=8.0)
    sim = snn.Simulator(net)
    sim.run(30, inputs={"input": x[:30]})
    sim.run(50, inputs={"input": x[30:]})
    whole = snn.simulate(net, inputs={"input": x})
    assert _same(sim.results().spikes["out"], whole.spikes["out"])
    with pytest.raises(snn.NetworkError, match="inputs hold 5 steps for a run of 4"):
        sim.run(4, inputs={"input": x[:5]})
