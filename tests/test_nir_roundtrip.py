"""Out and back: every example network -> snn.nir.save -> nir.read (type-checked) -> snn.nir.load, same spikes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import snn

nir = pytest.importorskip("nir")
import snn.nir  # noqa: E402

EXAMPLES = Path(__file__).parent.parent / "examples" / "networks"
NETWORKS = sorted(p.name for p in EXAMPLES.glob("*.toml"))


@pytest.mark.parametrize("name", NETWORKS)
def test_example_networks_round_trip_with_identical_results(name, tmp_path):
    net = snn.io.load(EXAMPLES / name)
    net = dataclasses.replace(net, duration=min(net.duration, 60.0))
    path = snn.nir.save(net, tmp_path / "net.nir")
    graph = nir.read(path)  # nir's own reader, with its type check
    assert graph.metadata["dt"] == pytest.approx(net.dt / 1000.0)
    back = snn.nir.load(path)  # dt from the file's metadata
    assert list(back.populations) == list(net.populations)
    assert list(back.projections) == list(net.projections)
    for mode in ("float", "fixed"):
        a, b = snn.simulate(net, mode), snn.simulate(back, mode)
        assert a.spikes.keys() == b.spikes.keys() and sum(len(s) for s in a.spikes.values()) > 0
        for pop in a.spikes:
            assert np.array_equal(a.spikes[pop].steps, b.spikes[pop].steps), (mode, pop)
            assert np.array_equal(a.spikes[pop].ids, b.spikes[pop].ids), (mode, pop)
        for pop in a.state:
            for var in a.state[pop]:
                assert np.array_equal(a.state[pop][var], b.state[pop][var]), (mode, pop, var)
        for proj in a.weights:
            assert np.array_equal(a.weights[proj], b.weights[proj]), (mode, proj)


def test_delta_synapse_groups_export_without_current_nodes(tmp_path):
    net = snn.Network(dt=0.1, duration=5.0)
    net.spikes("input", 2, ids=[0, 1, 0], steps=[1, 2, 6])
    out = net.lif("out", 3, tau_syn_e=0.0, tau_syn_i=0.0, v_rest=0.0, v_reset=0.0, v_init=0.0, v_thresh=0.9)
    net.connect("w", "input", out, weight=np.array([[1.0, 0.5, 2.0], [0.0, 1.0, 0.3]]))
    graph = snn.nir.to_graph(net)
    assert not any(type(n).__name__ == "LI" for n in graph.nodes.values())
    back = snn.nir.load(snn.nir.save(net, tmp_path / "d.nir"))
    a, b = snn.simulate(net), snn.simulate(back)
    assert len(a.spikes["out"]) > 0
    assert np.array_equal(a.spikes["out"].steps, b.spikes["out"].steps)


def test_the_nir_numbers_alone_give_the_same_spikes():
    # without the exact parameters in metadata, what another tool sees: Euler taus, r, LI
    # current nodes, thresholds one ulp below; refractoriness and v_init are not in NIR
    net = snn.io.load(EXAMPLES / "board_demo.toml")
    graph = snn.nir.to_graph(net)
    for node in graph.nodes.values():
        if type(node).__name__ == "LIF":
            node.metadata = {}
    back = snn.nir.load(graph)
    for pop in net.lif_groups:
        pop.t_ref, pop.v_init = 0.0, pop.v_rest
    a, b = snn.simulate(net), snn.simulate(back)
    assert len(a.spikes["neurons"]) > 20
    assert np.array_equal(a.spikes["neurons"].steps, b.spikes["neurons"].steps)
    assert np.array_equal(a.spikes["neurons"].ids, b.spikes["neurons"].ids)


def test_board_run_and_hdl_take_a_nir_file(tmp_path, capsys):
    from hdl import cli as hdl
    from snn.cli import main

    net = snn.io.load(EXAMPLES / "board_demo.toml")
    model = snn.nir.save(net, tmp_path / "demo.nir")
    out = tmp_path / "spikes.npz"
    assert main(["board", "run", str(model), "--port", "sim", "--baud", "3000000", "--save", str(out)]) == 0
    saved = np.load(out)
    res = snn.simulate(net, "fixed")
    groups = [g.name for g in net.lif_groups]
    built = net.build()
    steps = np.concatenate([res.spikes[g].steps for g in groups])
    neurons = np.concatenate([res.spikes[g].ids + built.lif_slices[g].start for g in groups])
    order = np.lexsort((neurons, steps))
    assert steps.size > 0
    assert np.array_equal(saved["steps"], steps[order]) and np.array_equal(saved["neurons"], neurons[order])
    # snn hdl verilog/test/build read it through a network file (the core's spec: default)
    parser = __import__("snn.cli", fromlist=["build_parser"]).build_parser()
    spec, path = hdl.resolve(parser.parse_args(["hdl", "test", str(model)]))
    assert path.suffix == ".toml" and list(snn.io.load(path).populations) == ["input", "neurons"]
    leaky = Path(__file__).parent / "nir_graphs" / "snn_leaky.nir"
    with pytest.raises(snn.NetworkError, match="snn_leaky.nir: the network does not fit the default core"):
        hdl.resolve(parser.parse_args(["hdl", "test", str(leaky), "--dt", "1e-4"]))
