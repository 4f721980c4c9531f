"""Network files: exact round trips, deterministic bytes, and the example networks."""

from __future__ import annotations

import dataclasses
import importlib.util
import zipfile
from pathlib import Path

import numpy as np
import pytest

import snn
from snn import io
from snn.build import BuiltNetwork
from snn.connectivity import RULES as CONNECTIVITY_RULES
from snn.core_spec import CoreSpec
from snn.plasticity import RULES as STDP_RULES
from snn.populations import LIF_PARAMETERS
from snn.quantize import fit_problems

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "networks"
EVERY_FEATURE = EXAMPLES / "every_feature.toml"


def _make_every_feature():
    spec = importlib.util.spec_from_file_location("make_every_feature", EXAMPLES / "make_every_feature.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same_build(a: BuiltNetwork, b: BuiltNetwork) -> None:
    """Every array, slice and rule of two built networks is identical."""
    for f in dataclasses.fields(BuiltNetwork):
        if f.name == "network":
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        items = x.items() if isinstance(x, dict) else [(None, x)]
        if isinstance(x, dict):
            assert x.keys() == y.keys(), f.name
        for key, xv in items:
            yv = y[key] if isinstance(x, dict) else y
            if isinstance(xv, np.ndarray):
                assert xv.dtype == yv.dtype and np.array_equal(xv, yv), (f.name, key)
            else:
                assert xv == yv, (f.name, key)


def test_every_feature_file_is_what_the_script_builds():
    net = _make_every_feature().every_feature_network()
    assert_same_build(io.load(EVERY_FEATURE).build(), net.build())


def test_every_feature_uses_every_feature():
    net = io.load(EVERY_FEATURE)
    pops = list(net.populations.values())
    assert {p.kind for p in pops} == {"lif", "poisson", "spikes"}
    lif_values = [getattr(p, name) for p in net.lif_groups for name in LIF_PARAMETERS]
    for form in (float, np.ndarray, snn.Uniform, snn.Normal):
        assert any(isinstance(v, form) for v in lif_values), form
    poisson = [p for p in pops if p.kind == "poisson"]
    assert any(p.seed is not None for p in poisson) and any(isinstance(p.rate, np.ndarray) for p in poisson)
    spikes = [p for p in pops if p.kind == "spikes"]
    assert any(p.times is not None for p in spikes) and any(p.steps is not None for p in spikes)
    projs = list(net.projections.values())
    assert {p.connectivity.rule for p in projs} == set(CONNECTIVITY_RULES)
    assert any(isinstance(p.weight, np.ndarray) and isinstance(p.connectivity, snn.AllToAll) for p in projs)
    assert any(isinstance(p.delay, np.ndarray) for p in projs)
    assert {p.target for p in projs} == {"exc", "inh"}
    rules = [p.stdp for p in projs if p.stdp is not None]
    assert {r.kind for r in rules} == set(STDP_RULES)
    pair = [r for r in rules if isinstance(r, snn.PairSTDP)]
    assert {r.mode for r in pair} == {"additive", "multiplicative"}
    assert {r.pairing for r in pair} == {"all", "nearest"}
    rec = net.recordings
    assert rec.spikes and rec.rates and rec.weights and len(rec.state) >= 2


def test_save_load_save_is_byte_identical(tmp_path):
    first = io.save(io.load(EVERY_FEATURE), tmp_path / "a.toml")
    second = io.save(io.load(first), tmp_path / "b.toml")
    for suffix in (".toml", ".npz"):
        reference = EVERY_FEATURE.with_suffix(suffix).read_bytes()
        assert first.with_suffix(suffix).read_bytes() == reference, suffix
        assert second.with_suffix(suffix).read_bytes() == reference, suffix


def test_api_network_round_trips_exactly(tmp_path):
    net = _make_every_feature().every_feature_network()
    loaded = io.load(io.save(net, tmp_path / "net.toml"))
    assert_same_build(loaded.build(), net.build())
    assert list(loaded.populations) == list(net.populations)
    assert list(loaded.projections) == list(net.projections)


def test_floats_survive_with_full_precision(tmp_path):
    awkward = [0.1 + 0.2, 1e-300, -0.0, 2.0**-40, 123456789.123456789, 5e300]
    net = snn.Network(dt=0.1 + 0.2, duration=1.0 / 3.0)
    net.lif(
        "a",
        1,
        v_rest=awkward[0],
        i_bias=awkward[1],
        v_reset=awkward[2],
        v_thresh=awkward[3],
        v_init=snn.Uniform(awkward[2], awkward[4]),
    )
    net.poisson("s", 1, rate=awkward[3])
    net.connect("p", "s", "a", weight=awkward[5])
    loaded = io.load(io.save(net, tmp_path / "f.toml"))
    assert (loaded.dt, loaded.duration) == (net.dt, net.duration)
    a, b = loaded.populations["a"], net.populations["a"]
    for name in ("v_rest", "i_bias", "v_reset", "v_thresh", "v_init"):
        assert repr(getattr(a, name)) == repr(getattr(b, name)), name
    assert loaded.projections["p"].weight == net.projections["p"].weight
    assert not (tmp_path / "f.npz").exists()  # no arrays, no sidecar


def test_sidecar_is_deterministic_and_plain_npz(tmp_path):
    path = io.save(io.load(EVERY_FEATURE), tmp_path / "n.toml")
    with zipfile.ZipFile(path.with_suffix(".npz")) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as npz:
        dense = npz["projections.noise_exc.weight_mV"]
    assert dense.shape == (10, 20)  # a dense weight matrix keeps its shape in the file


def test_file_layout_keeps_units_and_inline_distributions():
    text = EVERY_FEATURE.read_text()
    assert text.splitlines()[1] == f'format = "{io.FORMAT}"'
    assert "v_init_mV = { uniform = [-65.0, -55.0] }" in text
    assert "i_bias_mV = { normal = [1.0, 0.25] }" in text
    assert 'v_rest_mV = "npz:populations.exc.v_rest_mV"' in text
    assert "neurons = [0, 3, 5]" in text  # short neuron lists stay inline
    assert 'neurons = "npz:recordings.state.2.neurons"' in text


@pytest.mark.parametrize("name", ["cuba", "small_core", "every_feature"])
def test_examples_load_and_build(name):
    built = io.load(EXAMPLES / f"{name}.toml").build()
    assert built.n_neurons > 0 and built.n_synapses > 0


def test_cuba_is_the_benchmark():
    net = io.load(EXAMPLES / "cuba.toml")
    assert (net.dt, net.duration) == (0.1, 1000.0)
    assert {name: pop.n for name, pop in net.populations.items()} == {"exc": 3200, "inh": 800}
    for pop in net.lif_groups:
        assert (pop.tau_m, pop.tau_syn_e, pop.tau_syn_i, pop.t_ref) == (20.0, 5.0, 10.0, 5.0)
        assert (pop.v_rest, pop.v_thresh, pop.v_reset) == (-49.0, -50.0, -60.0)
        assert pop.v_init == snn.Uniform(-60.0, -50.0)
    for proj in net.projections.values():
        assert proj.connectivity == snn.FixedProbability(0.02, allow_self=False)
        assert proj.delay == 1
        assert proj.weight == (1.62 if proj.pre == "exc" else -9.0)
        assert proj.target == ("exc" if proj.pre == "exc" else "inh")
    built = net.build()
    pairs = 3200 * 3199 + 2 * 3200 * 800 + 800 * 799
    mean, std = 0.02 * pairs, np.sqrt(pairs * 0.02 * 0.98)
    assert abs(built.n_synapses - mean) < 5 * std
    assert net.recordings.spikes == ["exc", "inh"] and net.recordings.rates == ["exc", "inh"]


def test_small_core_fits_the_default_core():
    net = io.load(EXAMPLES / "small_core.toml")
    assert fit_problems(net, CoreSpec()) == []
    assert net.projections["input_neurons"].stdp is not None
    assert net.recordings.weights and net.recordings.state


DOC = Path(__file__).resolve().parents[1] / "docs" / "network-format.md"


def test_doc_names_every_key_and_its_example_loads(tmp_path):
    text = DOC.read_text()
    schemas = [
        io.TOP_KEYS,
        io.NETWORK_KEYS,
        io.PROJECTION_KEYS,
        io.RECORDING_KEYS,
        io.STATE_KEYS,
        io.WEIGHT_KEYS,
        *io.POPULATION_KEYS.values(),
        *io.CONNECTIVITY_KEYS.values(),
        *io.STDP_KEYS.values(),
    ]
    for schema in schemas:
        for key in schema:
            assert f"`{key}`" in text, key
    for name, (unit, _, default) in LIF_PARAMETERS.items():
        assert f"| `{name}_{unit}` | {unit} |" in text and f"`{default!r}` |" in text, name
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.toml"
    path.write_text(example)
    assert io.load(path).build().n_synapses == 64 * 100 + 100 * 99
