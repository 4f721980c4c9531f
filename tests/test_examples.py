"""The example scripts run and show what they claim."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

import snn

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_song_stdp_makes_weights_bimodal():
    """Song, Miller & Abbott 2000: additive STDP pushes weights to the bounds."""
    song = load_example("stdp_song")
    net = song.song_network(seconds=200.0)
    w0 = net.build().projection_weights("input")
    res = snn.simulate(net, mode="float", progress=False)
    w = res.weights["input"] / song.W_MAX

    def edges(x):
        return np.mean(x < 0.2), np.mean(x > 0.8), np.mean((x > 0.4) & (x < 0.6))

    low0, high0, mid0 = edges(w0 / song.W_MAX)
    low, high, mid = edges(w)
    assert low > low0 + 0.15 and high > high0 + 0.05  # mass moved to both bounds
    assert mid < 0.6 * mid0  # and out of the middle
    spikes = res.spikes["neuron"].times
    early, late = np.sum(spikes < 10_000), np.sum(spikes > res.duration - 10_000)
    assert late < early  # competition lowers the output rate


def test_cuba_example_runs(tmp_path, monkeypatch, capsys):
    cuba = load_example("cuba")
    monkeypatch.setattr(sys, "argv", ["cuba.py", "--n", "1000", "--out", str(tmp_path)])
    cuba.main()
    out = capsys.readouterr().out
    assert "mean rate" in out and "ISI CV" in out
    assert (tmp_path / "cuba_raster.png").stat().st_size > 10_000
    assert (tmp_path / "cuba_rate.png").stat().st_size > 10_000
