"""snn.sweep / snn sweep in this process (scheduler="synchronous"): the table, metrics, errors, resume, CLI.

Every row must equal a direct run of the same configuration and trial seed; the torch
backend (a configuration's seeds as one batch) and simulated boards must give the numba
rows. The Dask schedulers are tested in tests/test_sweep_dask.py.
"""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

import snn
from snn.cli import main
from snn.sweep.params import apply
from snn.sweep.runner import isi_cv

SYNC = {"scheduler": "synchronous", "progress": False}


def tiny(seed: int = 4) -> snn.Network:
    """10 Poisson inputs -> 8 LIF neurons with random v_init and STDP; 60 ms at dt 1."""
    net = snn.Network(dt=1.0, duration=60.0, seed=seed)
    net.poisson("inp", 10, rate=150.0)
    net.lif("a", 8, v_init=snn.Uniform(-65.0, -52.0))
    stdp = snn.PairSTDP(a_plus=0.2, a_minus=0.2, w_min=0.0, w_max=10.0)
    net.connect("ff", "inp", "a", snn.AllToAll(), weight=snn.Uniform(1.0, 4.0), stdp=stdp)
    net.connect("lat", "a", "a", snn.AllToAll(allow_self=False), weight=-1.0, target="inh")
    return net


def _read(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_grid_rows_equal_direct_runs(tmp_path):
    net = tiny()
    params = {"a.tau_m": [10.0, 20.0], "ff.weight": [2.0, 4.0]}
    out = tmp_path / "t.csv"
    res = snn.sweep(net, params, seeds=[0, 1], out=out, metrics=("spikes", "rates", "cv", "weights"), **SYNC)
    assert len(res.rows) == 8 and [r["run"] for r in res.rows] == list(range(8))
    assert res.columns[:4] == ["run", "seed", "a.tau_m", "ff.weight"] and res.columns[-1] == "error"
    for col in ("a.spikes", "a.rate_hz", "a.isi_cv", "ff.w_mean", "ff.w_std", "lat.w_max"):
        assert col in res.columns
    assert [r["run"] for r in _read(out)] == [str(i) for i in range(8)]
    for row in res.rows:
        cfg = {"a.tau_m": row["a.tau_m"], "ff.weight": row["ff.weight"]}
        want = snn.simulate(snn.trial(apply(net, cfg)[0], row["seed"]), progress=False)
        assert row["error"] == "" and row["a.spikes"] == want.spike_counts["a"]
        assert row["a.rate_hz"] == pytest.approx(want.spike_counts["a"] / (8 * 0.06))
        assert row["a.isi_cv"] == pytest.approx(isi_cv(want.spikes["a"]), nan_ok=True)
    spikes = res.column("a.spikes")
    assert spikes[0] != spikes[1] or spikes[2] != spikes[3], "seeds must give different trials"
    assert len(set(spikes)) > 2, "the swept parameters must matter"


def test_isi_cv():
    tr = snn.sim.results.SpikeTrains(
        np.array([0, 10, 20, 30, 5, 7, 15]), np.array([0, 0, 0, 0, 1, 1, 1]), 1.0
    )
    # neuron 0: ISIs 10,10,10 (CV 0); neuron 1: ISIs 2, 8 (CV 0.6); neurons with < 2 ISIs are left out
    assert isi_cv(tr) == pytest.approx(0.3)
    assert np.isnan(isi_cv(snn.sim.results.SpikeTrains(np.array([3]), np.array([0]), 1.0)))


def test_torch_batches_and_boards_give_the_numba_rows():
    net = tiny()
    params = {"a.tau_m": [10.0, 20.0]}
    want = snn.sweep(net, params, seeds=[0, 1, 2], mode="fixed", **SYNC).rows
    assert len({r["a.spikes"] for r in want}) > 1
    torch_rows = snn.sweep(net, params, seeds=[0, 1, 2], mode="fixed", backend="torch", **SYNC).rows
    assert torch_rows == want
    board_rows = snn.sweep(net, params, seeds=[0, 1, 2], mode="fixed", ports=["sim", "sim"], **SYNC).rows
    assert board_rows == want


def test_function_columns_errors_and_run_settings():
    def extra(res):
        if res.spike_counts["a"] > 10**9:
            raise RuntimeError("never")
        return {"first_step": int(res.spikes["a"].steps.min(initial=-1))}

    net = tiny()
    # a weight of 1000 mV does not fit the core's 8-bit weights: that run fails in its row only
    res = snn.sweep(net, {"ff.weight": [4.0, 1000.0], "mode": ["fixed"]}, function=extra, **SYNC)
    ok, bad = res.rows
    assert ok["error"] == "" and isinstance(ok["first_step"], int)
    assert bad["error"].startswith("FitError") and "weight" in bad["error"] and "\n" not in bad["error"]
    assert res.errors == [bad]
    listed = snn.sweep(net, runs=[{"a.tau_m": 10.0}, {"ff.weight": 3.0, "network.seed": 9}], **SYNC)
    assert listed.columns[:5] == ["run", "seed", "a.tau_m", "ff.weight", "network.seed"]
    assert [r.get("ff.weight") for r in listed.rows] == [None, 3.0] and not listed.errors
    ff = dataclasses.replace(net.projections["ff"], weight=3.0)
    changed = dataclasses.replace(net, seed=9, projections={**net.projections, "ff": ff})
    assert listed.rows[1]["a.spikes"] == snn.simulate(changed, progress=False).spike_counts["a"]
    short = snn.sweep(net, {"duration": [20.0, 40.0]}, **SYNC).rows
    assert short[0]["seed"] == "" and short[0]["a.spikes"] <= short[1]["a.spikes"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"params": {"b.tau_m": [1.0]}}, "no population or projection 'b'"),
        ({"params": {"a.tau": [1.0]}}, "no sweepable parameter 'tau'"),
        ({"params": {"a.tau_m": [-1.0]}}, "tau_m"),
        ({"params": {"mode": ["double"]}}, "not one of float, fixed"),
        ({"params": {"seed": [1]}}, "seeds="),
        ({"seeds": [1, 1]}, "repeat"),
        ({"ports": ["sim"]}, "fixed mode"),
        ({"out": "x.txt"}, ".csv or .parquet"),
    ],
)
def test_bad_input_is_one_clear_line(kwargs, message):
    with pytest.raises(snn.NetworkError, match=message):
        snn.sweep(tiny(), **{**SYNC, **kwargs})


def test_interrupted_sweep_resumes_without_redoing_rows(tmp_path):
    out = tmp_path / "r.csv"
    calls = []

    def stop_at_third(res):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return {}

    params = {"a.tau_m": [10.0, 15.0, 20.0]}
    with pytest.raises(KeyboardInterrupt):
        snn.sweep(tiny(), params, seeds=[0, 1], out=out, function=stop_at_third, **SYNC)
    assert [r["run"] for r in _read(out)] == ["0", "1"]
    calls.clear()
    res = snn.sweep(tiny(), params, seeds=[0, 1], out=out, function=lambda r: calls.append(1) or {}, **SYNC)
    assert len(calls) == 4 and [r["run"] for r in res.rows] == list(range(6))
    full = snn.sweep(tiny(), params, seeds=[0, 1], **SYNC).rows
    assert res.rows == full
    calls.clear()  # all done: nothing runs, not even a cluster
    again = snn.sweep(
        tiny(), params, seeds=[0, 1], out=out, function=lambda r: calls.append(1) or {}, progress=False
    )
    assert not calls and again.rows == full
    with pytest.raises(snn.NetworkError, match="another sweep"):
        snn.sweep(tiny(), {"a.tau_m": [11.0, 15.0, 20.0]}, seeds=[0, 1], out=out, **SYNC)


def test_cli_table_and_plots(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    snn.io.save(tiny(), path)
    out, png = tmp_path / "s.csv", tmp_path / "s.png"
    argv = ["sweep", str(path), "--param", "a.tau_m=10,20", "--param", "ff.weight=2,4", "--seeds", "0:2"]
    assert main([*argv, "-o", str(out), "--plot", str(png), "--scheduler", "synchronous", "--quiet"]) == 0
    rows = _read(out)
    assert len(rows) == 8 and list(rows[0])[:6] == [
        "run",
        "seed",
        "a.tau_m",
        "ff.weight",
        "a.spikes",
        "a.rate_hz",
    ]
    assert png.stat().st_size > 0
    res = snn.sweep(tiny(), {"a.tau_m": [10.0, 20.0]}, seeds=[0, 1], **SYNC)
    assert res.plot(tmp_path / "one.png").stat().st_size > 0
    assert (
        main(
            [*argv[:2], "--param", "a.tau_m=10", "--scheduler", "synchronous", "--quiet", "--plot", str(png)]
        )
        == 2
    )
    assert "one or two swept parameters" in capsys.readouterr().err
    assert main([*argv[:2], "--param", "a.tau_m", "--scheduler", "synchronous"]) == 2
    assert "NAME.PARAM=V1,V2" in capsys.readouterr().err
    # --function FILE.py:NAME adds its columns; without -o the table goes to stdout
    fn = tmp_path / "fn.py"
    fn.write_text("def last(res):\n    return {'last_step': int(res.spikes['a'].steps.max(initial=-1))}\n")
    assert main([*argv[:4], "--function", f"{fn}:last", "--scheduler", "synchronous", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "run,seed,a.tau_m,a.spikes,a.rate_hz,last_step,error" and len(lines) == 3
    assert main([*argv[:2], "--function", f"{fn}:nope", "--scheduler", "synchronous"]) == 2
    assert "defines no function 'nope'" in capsys.readouterr().err


def test_parquet_output_and_resume(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "t.parquet"
    calls = []

    def stop_at_second(res):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return {}

    params = {"a.tau_m": [10.0, 20.0]}
    with pytest.raises(KeyboardInterrupt):
        snn.sweep(tiny(), params, seeds=[0, 1], out=out, function=stop_at_second, **SYNC)
    res = snn.sweep(tiny(), params, seeds=[0, 1], out=out, **SYNC)
    assert res.rows == snn.sweep(tiny(), params, seeds=[0, 1], **SYNC).rows
    table = pq.read_table(out).to_pylist()
    assert [r["run"] for r in table] == [0, 1, 2, 3] and [r["a.spikes"] for r in table] == [
        r["a.spikes"] for r in res.rows
    ]
    assert not (tmp_path / "t.parquet.partial.csv").exists()
