"""``snn validate`` and ``snn info``, run in-process on the examples and on bad files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from snn import io
from snn.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "networks"
NAMES = ["cuba", "small_core", "every_feature"]


@pytest.mark.parametrize("name", NAMES)
def test_validate_examples(capsys, name):
    path = EXAMPLES / f"{name}.toml"
    assert main(["validate", str(path)]) == 0
    net = io.load(path)
    built = net.build()
    expected = (
        f"ok: {path}: {len(net.populations)} populations, {built.n_neurons} neurons, "
        f"{built.n_synapses} synapses\n"
    )
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize("name", NAMES)
def test_info_lists_the_network(capsys, name):
    path = EXAMPLES / f"{name}.toml"
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    net = io.load(path)
    for label in [*net.populations, *net.projections]:
        assert label in out
    assert f"({net.n_steps} steps)" in out
    assert "Memory estimate" in out


def test_info_says_whether_it_fits(capsys):
    main(["info", str(EXAMPLES / "small_core.toml")])
    assert "fits the default core (256 inputs x 256 neurons)" in capsys.readouterr().out
    main(["info", str(EXAMPLES / "cuba.toml")])
    out = capsys.readouterr().out
    assert "does not fit the default core" in out
    assert "4000 LIF neurons exceed the core's 256 neurons" in out


def test_info_json(capsys):
    path = EXAMPLES / "every_feature.toml"
    assert main(["info", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    built = io.load(path).build()
    assert data["synapses"] == built.n_synapses
    assert sum(p["synapses"] for p in data["projections"]) == built.n_synapses
    assert [p["name"] for p in data["populations"]] == list(built.network.populations)
    memory = data["memory_bytes"]
    assert memory["synapses"] == 8 * built.n_synapses
    assert memory["delays"] > 0  # the delays differ between synapses
    assert memory["total"] == sum(v for k, v in memory.items() if k != "total")
    assert data["core"]["fits"] is False and data["core"]["problems"]
    by_name = {p["name"]: p for p in data["projections"]}
    assert by_name["exc_exc"]["plasticity"]["mode"] == "multiplicative"


def test_fit_check_unavailable_without_the_quantizer(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "snn.quantize", None)  # makes the import fail
    assert main(["info", str(EXAMPLES / "small_core.toml")]) == 0
    assert "fit check unavailable" in capsys.readouterr().out


BAD = 'format = "snn-network/1"\n[populations.a]\nkind = "lif"\nn = 2\ntau_m_ms = 0.0\n'
# Per-synapse weights that do not match the drawn synapses are only found by building.
BAD_AT_BUILD = (
    'format = "snn-network/1"\n[populations.a]\nkind = "lif"\nn = 20\n'
    '[projections.p]\npre = "a"\npost = "a"\nweight_mV = [1.0, 2.0]\n'
    'connectivity = { rule = "fixed_probability", p = 0.5 }\n'
)


@pytest.mark.parametrize("command", ["validate", "info"])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BAD, "populations.a: population 'a': tau_m: must be > 0, got 0"),
        (BAD_AT_BUILD, "projection 'p': shape mismatch, 2 weights for"),
        (None, "file not found"),
    ],
    ids=["load", "build", "missing"],
)
def test_bad_file_is_one_line_and_exit_2(tmp_path, capsys, command, text, message):
    path = tmp_path / "bad.toml"
    if text is not None:
        path.write_text(text)
    assert main([command, str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"snn {command}: error: {path}: ")
    assert message in lines[0]
