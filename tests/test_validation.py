"""Bad input, from files and from the API: one-line NetworkErrors that say what, where and how."""

from __future__ import annotations

import re

import numpy as np
import pytest

import snn
from snn import io
from snn.network import MAX_DELAY_STEPS

# A small valid file; each case below changes one thing in it.
BASE = """\
format = "snn-network/1"

[network]
dt_ms = 0.1
duration_ms = 10.0

[populations.src]
kind = "poisson"
n = 4
rate_hz = 10.0

[populations.exc]
kind = "lif"
n = 3
tau_m_ms = 20.0

[projections.p]
pre = "src"
post = "exc"
weight_mV = 1.0
delay_steps = 1
connectivity = { rule = "all_to_all" }
"""


def edit(old: str, new: str) -> str:
    """BASE with ``old`` replaced by ``new`` (``old`` must occur)."""
    assert old in BASE, old
    return BASE.replace(old, new)


def append(text: str) -> str:
    return BASE + text


# (id, toml text, sidecar arrays or None, distinctive part of the message)
FILE_CASES = [
    ("syntax", edit("n = 3", "n = "), None, r"not valid TOML: Invalid value \(at line 14"),
    (
        "format-version",
        edit("snn-network/1", "snn-network/9"),
        None,
        r"unknown format version 'snn-network/9'",
    ),
    (
        "format-missing",
        edit('format = "snn-network/1"', ""),
        None,
        r"add format = 'snn-network/1' at the top",
    ),
    (
        "unknown-top-key",
        append("[populationz.x]\nkind = 'lif'\n"),
        None,
        r"top level: unknown key 'populationz'; allowed keys: format, network, populations",
    ),
    (
        "unknown-field",
        edit("tau_m_ms = 20.0", "tau_mm_ms = 20.0"),
        None,
        r"populations.exc: unknown key 'tau_mm_ms'; allowed keys: kind, n, tau_m_ms, tau_syn_e_ms",
    ),
    (
        "unit-missing",
        edit("tau_m_ms = 20.0", "tau_m = 20.0"),
        None,
        r"unknown key 'tau_m'; allowed keys:.*tau_m_ms",
    ),
    ("missing-n", edit("n = 3\n", ""), None, r"populations.exc: missing required key 'n' \(an integer\)"),
    ("missing-pre", edit('pre = "src"\n', ""), None, r"projections.p: missing required key 'pre'"),
    (
        "missing-kind",
        edit('kind = "lif"\n', ""),
        None,
        r"populations.exc: missing required key 'kind'; choose from lif",
    ),
    (
        "wrong-type",
        edit("n = 3", 'n = "three"'),
        None,
        r"populations.exc.n: expected an integer, got a string",
    ),
    (
        "bool-for-int",
        edit("n = 3", "n = true"),
        None,
        r"populations.exc.n: expected an integer, got a boolean",
    ),
    (
        "wrong-type-table",
        edit('connectivity = { rule = "all_to_all" }', 'connectivity = "all_to_all"'),
        None,
        r"projections.p.connectivity: expected a table, got a string",
    ),
    (
        "negative-tau",
        edit("tau_m_ms = 20.0", "tau_m_ms = -5.0"),
        None,
        r"populations.exc: population 'exc': tau_m: must be > 0, got -5",
    ),
    ("zero-tau", edit("tau_m_ms = 20.0", "tau_m_ms = 0"), None, r"tau_m: must be > 0, got 0"),
    ("zero-dt", edit("dt_ms = 0.1", "dt_ms = 0.0"), None, r"network: network: dt must be a number > 0"),
    (
        "unknown-kind",
        edit('kind = "lif"', 'kind = "izhikevich"'),
        None,
        r"populations.exc.kind: unknown population kind 'izhikevich'; choose from lif, poisson, spikes",
    ),
    (
        "duplicate-population",
        append('[populations.exc]\nkind = "lif"\nn = 1\n'),
        None,
        r"Cannot declare \('populations', 'exc'\) twice .*give each population and projection its own name",
    ),
    (
        "duplicate-projection",
        append('[projections.p]\npre = "src"\npost = "exc"\n'),
        None,
        r"Cannot declare \('projections', 'p'\) twice",
    ),
    (
        "unknown-population",
        edit('pre = "src"', 'pre = "nope"'),
        None,
        r"projections.p: unknown population 'nope' \(known: src, exc\)",
    ),
    (
        "post-is-source",
        edit('post = "exc"', 'post = "src"'),
        None,
        r"post population 'src' is a spike source",
    ),
    (
        "unknown-rule",
        edit('rule = "all_to_all"', 'rule = "random"'),
        None,
        r"projections.p.connectivity.rule: unknown connectivity rule 'random'; choose from all_to_all, one_to_one",
    ),
    (
        "rule-param-missing",
        edit('rule = "all_to_all"', 'rule = "fixed_probability"'),
        None,
        r"projections.p.connectivity: missing required key 'p' \(a number\)",
    ),
    (
        "rule-param-type",
        edit('rule = "all_to_all"', 'rule = "fixed_probability", p = "high"'),
        None,
        r"projections.p.connectivity.p: expected a number, got a string",
    ),
    (
        "probability-range",
        edit('rule = "all_to_all"', 'rule = "fixed_probability", p = 1.5'),
        None,
        r"fixed_probability p must be in \[0, 1\], got 1.5",
    ),
    (
        "unknown-stdp",
        append('stdp = { kind = "triplet" }\n'),
        None,
        r"projections.p.stdp.kind: unknown STDP kind 'triplet'; choose from pair, window",
    ),
    (
        "stdp-key-without-unit",
        append('stdp = { kind = "pair", a_plus = 0.1 }\n'),
        None,
        r"projections.p.stdp: unknown key 'a_plus'; allowed keys: kind, a_plus_mV, a_minus_mV",
    ),
    (
        "stdp-mode",
        append('stdp = { kind = "pair", mode = "hebbian" }\n'),
        None,
        r"stdp: mode must be 'additive' or 'multiplicative', got 'hebbian'",
    ),
    ("nan-weight", edit("weight_mV = 1.0", "weight_mV = nan"), None, r"weight: nan is not a finite number"),
    ("inf-weight", edit("weight_mV = 1.0", "weight_mV = -inf"), None, r"weight: -inf is not a finite number"),
    (
        "excitatory-negative",
        edit("weight_mV = 1.0", "weight_mV = -1.0"),
        None,
        r"excitatory weights must be >= 0 mV \(found -1\); use target='inh'",
    ),
    (
        "bad-target",
        edit("weight_mV = 1.0", 'weight_mV = 1.0\ntarget = "modulatory"'),
        None,
        r"target must be 'exc' or 'inh', got 'modulatory'",
    ),
    (
        "delay-too-long",
        edit("delay_steps = 1", f"delay_steps = {MAX_DELAY_STEPS + 1}"),
        None,
        rf"delay {MAX_DELAY_STEPS + 1} exceeds the maximum of {MAX_DELAY_STEPS} timesteps",
    ),
    ("delay-zero", edit("delay_steps = 1", "delay_steps = 0"), None, r"delay must be >= 1 timestep, got 0"),
    (
        "delay-float",
        edit("delay_steps = 1", "delay_steps = 1.5"),
        None,
        r"projections.p.delay_steps: expected an integer number of timesteps",
    ),
    (
        "bad-distribution",
        edit("weight_mV = 1.0", "weight_mV = { gauss = [0.0, 1.0] }"),
        None,
        r"projections.p.weight_mV: a distribution is \{ uniform = \[lo, hi\] \}.*got keys gauss",
    ),
    (
        "distribution-arity",
        edit("weight_mV = 1.0", "weight_mV = { uniform = [0.0] }"),
        None,
        r"projections.p.weight_mV.uniform: expected two numbers \[a, b\]",
    ),
    (
        "ragged-array",
        edit("rate_hz = 10.0", "rate_hz = [[1.0], [2.0, 3.0]]"),
        None,
        r"rows of different lengths",
    ),
    (
        "bool-array",
        edit("rate_hz = 10.0", "rate_hz = [true, false, true, true]"),
        None,
        r"populations.src.rate_hz: expected a number, an array.*got booleans",
    ),
    (
        "shape-mismatch",
        edit("rate_hz = 10.0", "rate_hz = [1.0, 2.0, 3.0]"),
        None,
        r"population 'src': rate: shape mismatch, expected 4 values \(one per element\), got 3",
    ),
    (
        "sidecar-missing",
        edit("rate_hz = 10.0", 'rate_hz = "npz:rates"'),
        None,
        r"populations.src.rate_hz: refers to 'npz:rates' but the sidecar file bad.npz is missing",
    ),
    (
        "sidecar-key-missing",
        edit("rate_hz = 10.0", 'rate_hz = "npz:rates"'),
        {"other": np.ones(4)},
        r"populations.src.rate_hz: the sidecar bad.npz has no array 'rates'",
    ),
    (
        "sidecar-strings",
        edit("rate_hz = 10.0", 'rate_hz = "npz:rates"'),
        {"rates": np.array(["a"] * 4)},
        r"expected a number, an array.*got <U1 values \(array 'rates' of bad.npz\)",
    ),
    (
        "weight-matrix-shape",
        edit("weight_mV = 1.0", 'weight_mV = "npz:w"'),
        {"w": np.ones((3, 3))},
        r"shape mismatch, weight matrix is \(3, 3\), expected \(4, 3\)",
    ),
    (
        "sparse-index",
        edit('rule = "all_to_all"', 'rule = "sparse", pre = [0, 9], post = [0, 1]'),
        None,
        r"projections.p: projection 'p': pre index 9 out of range \[0, 4\)",
    ),
    (
        "sparse-float-index",
        edit('rule = "all_to_all"', 'rule = "sparse", pre = [0.5], post = [0]'),
        None,
        r"sparse connectivity: pre must be integers",
    ),
    (
        "spike-times-and-steps",
        append('[populations.st]\nkind = "spikes"\nn = 2\nids = [0]\ntimes_ms = [1.0]\nsteps = [3]\n'),
        None,
        r"give spike 'times' \(ms\) or 'steps', exactly one",
    ),
    (
        "spike-index",
        append('[populations.st]\nkind = "spikes"\nn = 2\nids = [5]\nsteps = [3]\n'),
        None,
        r"population 'st': index 5 out of range \[0, 2\)",
    ),
    (
        "record-unknown",
        append('[recordings]\nspikes = ["ghost"]\n'),
        None,
        r"recordings.spikes: unknown population 'ghost' \(known: src, exc\)",
    ),
    (
        "record-state-index",
        append('[[recordings.state]]\npopulation = "exc"\nneurons = [0, 7]\n'),
        None,
        r"recordings.state.0: state recording of 'exc': neuron index 7 out of range \[0, 3\)",
    ),
    (
        "record-state-variable",
        append('[[recordings.state]]\npopulation = "exc"\nvariables = ["w"]\n'),
        None,
        r"unknown variable 'w'; choose from v, i_e, i_i",
    ),
    (
        "record-weights-unknown",
        append('[[recordings.weights]]\nprojection = "q"\n'),
        None,
        r"recordings.weights.0: weight recording: unknown projection 'q'",
    ),
    (
        "bad-name",
        append('[populations."a b"]\nkind = "lif"\nn = 1\n'),
        None,
        r"population name 'a b': use only letters, digits",
    ),
]


@pytest.mark.parametrize(
    ("text", "arrays", "match"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_bad_file(tmp_path, text, arrays, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    if arrays is not None:
        np.savez(path.with_suffix(".npz"), **arrays)
    with pytest.raises(snn.NetworkError, match=match) as info:
        io.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("text", "arrays", "match"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_snn_validate_rejects_bad_file(tmp_path, capsys, text, arrays, match):
    """The same table through the CLI: exit status 2 and the message on one stderr line."""
    from snn.cli import main

    path = tmp_path / "bad.toml"
    path.write_text(text)
    if arrays is not None:
        np.savez(path.with_suffix(".npz"), **arrays)
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and re.search(match, lines[0]), lines


def test_base_file_is_valid(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(BASE)
    assert io.load(path).build().n_synapses == 12


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: None, r"file not found; check the path"),
        (lambda p: p.mkdir(), r"is a directory; give the path of a .toml network file"),
        (lambda p: p.write_bytes(b'format = "\xff\xfe"\n'), r"not a TOML file: it is not UTF-8 text"),
        (
            lambda p: (
                p.write_text(edit("rate_hz = 10.0", 'rate_hz = "npz:r"')),
                p.with_suffix(".npz").write_text("x"),
            ),
            r"the sidecar net.npz is not a valid .npz file",
        ),
    ],
    ids=["missing", "directory", "not-utf8", "corrupt-sidecar"],
)
def test_bad_path(tmp_path, make, match):
    path = tmp_path / "net.toml"
    make(path)
    with pytest.raises(snn.NetworkError, match=match) as info:
        io.load(path)
    assert "\n" not in str(info.value)


def _net() -> snn.Network:
    net = snn.Network(dt=0.1, duration=10.0)
    net.poisson("src", 4, rate=10.0)
    net.lif("exc", 3)
    return net


# API calls that must fail the same way a file does: (id, call on a small network, message)
API_CASES = [
    ("negative-tau", lambda n: n.lif("x", 2, tau_m=-1.0), r"population 'x': tau_m: must be > 0"),
    ("zero-size", lambda n: n.lif("x", 0), r"population 'x': n must be >= 1, got 0"),
    ("bad-name", lambda n: n.lif("a b", 1), r"population name 'a b': use only letters"),
    ("shape", lambda n: n.lif("x", 2, v_rest=np.zeros(3)), r"shape mismatch, expected 2 values"),
    ("dt", lambda n: snn.Network(dt=-0.1), r"dt must be a number > 0"),
    ("duplicate-population", lambda n: n.lif("exc", 1), r"duplicate population name 'exc'"),
    (
        "duplicate-projection",
        lambda n: [n.connect("p", "src", "exc") for _ in range(2)],
        r"duplicate projection name 'p'",
    ),
    ("unknown-population", lambda n: n.connect("p", "src", "ghost"), r"unknown population 'ghost'"),
    (
        "nan-weight",
        lambda n: n.connect("p", "src", "exc", weight=float("nan")),
        r"nan is not a finite number",
    ),
    (
        "inf-weights",
        lambda n: n.connect("p", "src", "exc", weight=np.r_[np.ones(11), np.inf]),
        r"projection 'p': weight: inf is not a finite number",
    ),
    (
        "one-to-one-sizes",
        lambda n: n.connect("p", "src", "exc", snn.OneToOne()),
        r"one_to_one needs populations of equal size, got 4 and 3",
    ),
    ("delay-max", lambda n: n.connect("p", "src", "exc", delay=MAX_DELAY_STEPS + 1), r"exceeds the maximum"),
    (
        "delay-zero",
        lambda n: n.connect("p", "src", "exc", delay=np.array([1, 0])),
        r"delay must be >= 1 timestep",
    ),
    (
        "exc-negative",
        lambda n: n.connect("p", "src", "exc", weight=snn.Uniform(-1.0, 1.0)),
        r"excitatory weights must be >= 0 mV",
    ),
    (
        "inh-positive",
        lambda n: n.connect("p", "src", "exc", weight=2.0, target="inh"),
        r"inhibitory weights must be <= 0 mV",
    ),
    (
        "normal-weight",
        lambda n: n.connect("p", "src", "exc", weight=snn.Normal(1.0, 0.5)),
        r"a normal weight distribution can change sign",
    ),
    (
        "sparse-range",
        lambda n: n.connect("p", "src", "exc", snn.Sparse([0], [3])),
        r"post index 3 out of range",
    ),
    (
        "stdp-tau",
        lambda n: n.connect("p", "src", "exc", stdp=snn.PairSTDP(tau_plus=0.0)),
        r"tau_plus must be > 0",
    ),
    ("stdp-bounds", lambda n: n.connect("p", "src", "exc", stdp=snn.PairSTDP(w_min=-1.0)), r"cross zero"),
    ("uniform-order", lambda n: snn.Uniform(1.0, 0.0), r"high is below low; swap the bounds"),
    ("spike-index", lambda n: n.spikes("s", 2, ids=[2], steps=[1]), r"index 2 out of range \[0, 2\)"),
    ("record-range", lambda n: n.record_state("exc", neurons=[3]), r"neuron index 3 out of range"),
    ("record-source", lambda n: n.record_rate("src"), r"population 'src' is a spike source"),
    (
        "weights-after-build",
        lambda n: (n.connect("p", "src", "exc", snn.FixedInDegree(2), weight=np.ones(5)), n.build()),
        r"shape mismatch, 5 weights for 6 synapses",
    ),
]


@pytest.mark.parametrize(("call", "match"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_bad_api_call(call, match):
    with pytest.raises(snn.NetworkError, match=match) as info:
        call(_net())
    assert "\n" not in str(info.value)


def test_messages_name_the_toml_key_with_units(tmp_path):
    """A message about a file uses the file's key names, not only the API's."""
    path = tmp_path / "bad.toml"
    path.write_text(edit("tau_m_ms = 20.0", "tau_m_ms = [1.0, 2.0]"))
    with pytest.raises(snn.NetworkError) as info:
        io.load(path)
    assert re.search(r"populations\.exc: .*tau_m: shape mismatch, expected 3 values", str(info.value))
