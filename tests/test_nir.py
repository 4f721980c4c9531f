"""NIR import: snnTorch's exports give snnTorch's spikes, step for step, at the reported lag.

The checked-in graphs in tests/nir_graphs/ were written by snnTorch's own exporter
(make_graphs.py); with snnTorch installed, fresh networks and inputs are drawn too. A
hand-made graph with convolutions, pooling, delays, a nested graph and IF/CubaLIF/LIF
nodes is checked against a direct forward-Euler reading of NIR's equations.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import snn

nir = pytest.importorskip("nir")
import snn.nir  # noqa: E402

GRAPHS = Path(__file__).parent / "nir_graphs"
CASES = ("snn_leaky", "snn_synaptic", "snn_rleaky", "snn_conv")


def _spikes_at_lag(imported, inputs, node, n, backend="numba"):
    """Simulate on ``inputs`` (steps, n_in); spikes of NIR ``node`` in NIR time, (steps, n) bool."""
    steps = inputs.shape[0]
    pad = max(imported.lags.values())
    x = np.concatenate([inputs, np.zeros((pad, inputs.shape[1]), inputs.dtype)])
    kwargs = {"dtype": "float64"} if backend == "torch" else {}
    res = snn.simulate(imported.network, inputs={"input": x}, backend=backend, **kwargs)
    pop = imported.names[node]
    got = np.zeros((steps + pad, n), bool)
    got[res.spikes[pop].steps, res.spikes[pop].ids] = True
    lag = imported.lags[pop]
    return got[lag : lag + steps]


def _node(imported, key):
    return key if key in imported.names else key + ".lif"  # RLeaky's neuron node is '1.lif'


@pytest.mark.parametrize("case", CASES)
def test_snntorch_exports_give_snntorch_spikes(case):
    imported = snn.nir.read(GRAPHS / f"{case}.nir", dt=1e-4)
    data = np.load(GRAPHS / f"{case}.npz")
    keys = [k for k in data.files if k.startswith("spikes__")]
    assert imported.lags[imported.names[_node(imported, keys[-1][8:])]] == 2  # two layers
    total = 0
    for trial, x in enumerate(data["inputs"]):
        x = x.reshape(x.shape[0], -1)
        for key in keys:
            want = data[key][trial]
            got = _spikes_at_lag(imported, x, _node(imported, key[8:]), want.shape[1])
            assert np.array_equal(got, want), (case, trial, key, np.argwhere(got != want)[:5])
            total += int(want.sum())
    assert total > 100  # the networks are active


def test_norse_export_gives_norse_spikes_at_dt_squared():
    # Norse 1.1.0 writes tau = dt / tau_mem_inv (dt times too small, norse#411): its file
    # reproduces Norse, which ran at dt = 1e-3 s, when read at dt = 1e-6
    imported = snn.nir.read(GRAPHS / "norse_lifbox.nir", dt=1e-6)
    data = np.load(GRAPHS / "norse_lifbox.npz")
    for trial, x in enumerate(data["inputs"]):
        for key in ("spikes__1", "spikes__3"):
            want = data[key][trial]
            got = _spikes_at_lag(imported, x, key[8:], want.shape[1])
            assert np.array_equal(got, want), (trial, key)
    assert data["spikes__3"].sum() > 10
    with pytest.raises(snn.NetworkError, match=r"Euler factor 1 - dt/tau = -\d+"):
        snn.nir.read(GRAPHS / "norse_lifbox.nir", dt=1e-3)  # Norse's own dt: tau < dt in the file


def test_output_population_is_named_like_the_output_node():
    imported = snn.nir.read(GRAPHS / "snn_leaky.nir", dt=1e-4)
    assert imported.names["3"] == "output" and "input" in imported.network.populations
    assert imported.network.populations["input"].kind == "spikes"
    assert "lag 2" in imported.report()


def test_torch_backend_runs_a_batch_of_a_data_set():
    pytest.importorskip("torch")
    imported = snn.nir.read(GRAPHS / "snn_synaptic.nir", dt=1e-4)
    data = np.load(GRAPHS / "snn_synaptic.npz")
    x = np.concatenate([data["inputs"], np.zeros((4, 2, 10), np.uint8)], axis=1)
    results = snn.simulate(imported.network, backend="torch", dtype="float64", inputs={"input": x})
    for trial, res in enumerate(results):
        got = np.zeros((x.shape[1], 6), bool)
        got[res.spikes["output"].steps, res.spikes["output"].ids] = True
        assert np.array_equal(got[2 : 2 + 60], data["spikes__3"][trial])


def _make_graphs():
    spec = importlib.util.spec_from_file_location("make_graphs", GRAPHS / "make_graphs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fresh_snntorch_networks_on_unseen_inputs():
    pytest.importorskip("snntorch")
    torch = pytest.importorskip("torch")
    make = _make_graphs()
    gen = torch.Generator().manual_seed(2026)
    for name, (model, shape) in make.cases(gen).items():
        x = make.inputs(gen, 3, 80, shape, p=0.35)
        graph = make.export(model, x)
        spikes = make.run(model, x)
        imported = snn.nir.read(graph, dt=1e-4)
        for key, want in spikes.items():
            for trial in range(x.shape[0]):
                flat = x[trial].numpy().reshape(x.shape[1], -1)
                got = _spikes_at_lag(imported, flat, _node(imported, key), want.shape[2])
                assert np.array_equal(got, want[trial]), (name, key, trial)


# -- a hand-made graph against a direct Euler reading of NIR ---------------------------------
def _euler(graph, x, dt):
    """Forward Euler of NIR's equations, all edges within the step (feed-forward graphs)."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    nodes, edges = graph.nodes, graph.edges
    order, done = [], set()
    while len(order) < len(nodes):
        for name in nodes:
            if name not in done and all(s in done for s, d in edges if d == name):
                order.append(name)
                done.add(name)
    state = {}
    out = {name: [] for name in nodes}
    for t in range(x.shape[0]):
        val = {}
        for name in order:
            node = nodes[name]
            ins = [val[s] for s, d in edges if d == name]
            u = sum(ins[1:], ins[0]) if ins else None
            kind = type(node).__name__
            if kind == "Input" and not ins:
                y = x[t].astype(np.float64)
            elif kind in ("Input", "Output"):  # a nested graph's entry or exit
                y = u
            elif kind == "Affine":
                y = node.weight @ u.ravel() + node.bias
            elif kind == "Linear":
                y = node.weight @ u.ravel()
            elif kind == "Scale":
                y = node.scale * u
            elif kind == "Flatten":
                y = u.ravel()
            elif kind == "Conv2d":
                shape = (node.weight.shape[1],) + tuple(node.input_shape)
                y = F.conv2d(torch.as_tensor(u.reshape(shape))[None], torch.as_tensor(node.weight),
                             torch.as_tensor(node.bias), stride=tuple(node.stride), padding=tuple(node.padding))[0].numpy()  # fmt: skip
            elif kind == "SumPool2d":
                k = tuple(int(a) for a in node.kernel_size)
                y = F.avg_pool2d(torch.as_tensor(u)[None], k, tuple(int(a) for a in node.stride))[
                    0
                ].numpy() * np.prod(k)
            elif kind == "Delay":
                hist = state.setdefault(name, [])
                hist.append(u)
                d = int(round(float(node.delay.ravel()[0]) / dt))
                y = hist[-1 - d] if len(hist) > d else np.zeros_like(u)
            elif kind in ("LIF", "CubaLIF", "IF"):
                v = state.get(name, {}).get("v", np.zeros_like(node.v_threshold))
                i_syn = state.get(name, {}).get("i", np.zeros_like(node.v_threshold))
                u = u.reshape(v.shape)
                if kind == "LIF":
                    v = v + dt / node.tau * (node.v_leak - v + node.r * u)
                elif kind == "CubaLIF":
                    i_syn = i_syn + dt / node.tau_syn * (-i_syn + node.w_in * u)
                    v = v + dt / node.tau_mem * (node.v_leak - v + node.r * i_syn)
                else:
                    v = v + dt * node.r * u
                y = (v > node.v_threshold).astype(np.float64)
                v = np.where(y > 0, node.v_reset, v)
                state[name] = {"v": v, "i": i_syn}
            else:
                raise AssertionError(kind)
            val[name] = y
            out[name].append(np.asarray(y).ravel() > 0)
    return {k: np.array(v) for k, v in out.items()}


def _conv_graph(rng):
    """Input (1, 6, 6) -> Conv2d -> IF -> SumPool2d -> Flatten -> nested [Affine -> CubaLIF] -> Delay -> Linear -> LIF."""
    c = 2
    conv_w = rng.normal(0.8, 0.5, (c, 1, 3, 3))
    n_pool = c * 2 * 2
    inner = nir.NIRGraph(
        nodes={
            "in": nir.Input(np.array([n_pool])),
            "fc": nir.Affine(rng.normal(0.5, 0.6, (7, n_pool)), rng.normal(0.0, 0.05, 7)),
            "cuba": nir.CubaLIF(
                tau_syn=np.full(7, 3e-4),
                tau_mem=rng.uniform(2e-4, 9e-4, 7),
                r=np.full(7, 2.0),
                v_leak=np.zeros(7),
                v_threshold=rng.uniform(0.5, 1.0, 7),
                v_reset=np.zeros(7),
                w_in=rng.uniform(1.0, 3.0, 7),
            ),  # fmt: skip
            "out": nir.Output(np.array([7])),
        },
        edges=[("in", "fc"), ("fc", "cuba"), ("cuba", "out")],
    )
    nodes = {
        "input": nir.Input(np.array([1, 6, 6])),
        "conv": nir.Conv2d((6, 6), conv_w, 1, 0, 1, 1, np.full(c, 0.1)),
        "if": nir.IF(
            r=np.full((c, 4, 4), 3e3), v_threshold=np.full((c, 4, 4), 1.0), v_reset=np.zeros((c, 4, 4))
        ),
        "pool": nir.SumPool2d(np.array([2, 2]), np.array([2, 2]), np.array([0, 0])),
        "flat": nir.Flatten({"input": np.array([c, 2, 2])}, 0, -1),
        "sub": inner,
        "delay": nir.Delay(np.full(7, 2e-4)),
        "lin": nir.Linear(rng.normal(0.6, 0.5, (3, 7))),
        "lif": nir.LIF(
            tau=rng.uniform(2e-4, 8e-4, 3),
            r=np.full(3, 3.0),
            v_leak=np.full(3, 0.1),
            v_threshold=np.full(3, 0.6),
            v_reset=np.full(3, -0.1),
        ),  # fmt: skip
        "output": nir.Output(np.array([3])),
    }
    edges = [("input", "conv"), ("conv", "if"), ("if", "pool"), ("pool", "flat"), ("flat", "sub"),
             ("sub", "delay"), ("delay", "lin"), ("lin", "lif"), ("lif", "output")]  # fmt: skip
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False), inner


def test_convolutions_pooling_delays_and_nested_graphs_follow_nir_euler(tmp_path):
    rng = np.random.default_rng(7)
    graph, inner = _conv_graph(rng)
    nir.write(tmp_path / "conv.nir", graph)
    imported = snn.nir.read(tmp_path / "conv.nir", dt=1e-4)
    x = (rng.random((50, 36)) < 0.4).astype(np.uint8)
    flat = dict(graph.nodes)
    flat.pop("sub")
    flat.update({"sub." + k: v for k, v in inner.nodes.items()})
    edges = [e for e in graph.edges if "sub" not in e] + [("flat", "sub.in"), ("sub.in", "sub.fc"),
             ("sub.fc", "sub.cuba"), ("sub.cuba", "sub.out"), ("sub.out", "delay")]  # fmt: skip
    flat_graph = type("G", (), {"nodes": flat, "edges": edges})
    want = _euler(flat_graph, x.reshape(50, 1, 6, 6), 1e-4)
    assert imported.lags[imported.names["lif"]] == 1  # the Delay of 2 steps absorbs two layers
    for node, n in (("if", 32), ("sub.cuba", 7), ("lif", 3)):
        got = _spikes_at_lag(imported, x, node, n)
        assert want[node].sum() > 0
        assert np.array_equal(got, want[node]), (node, np.argwhere(got != want[node])[:5])


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda g: g.nodes.__setitem__("1", nir.LI(np.ones(16), np.ones(16), np.zeros(16))),
            "LI node is expressible only",
        ),
        (lambda g: g.edges.append(("input", "output")), "fed by 'input'"),
        (
            lambda g: (
                g.nodes.__setitem__("ro", nir.Linear(np.ones((6, 6)))),
                g.edges.extend([("3", "ro"), ("ro", "output")]),
            ),
            "through weights",
        ),
    ],
)
def test_unexpressible_graphs_are_one_line_errors(change, message):
    graph = nir.read(GRAPHS / "snn_leaky.nir")
    change(graph)
    with pytest.raises(snn.NetworkError, match=message) as info:
        snn.nir.read(graph, dt=1e-4)
    assert "\n" not in str(info.value)


def test_dt_is_required_and_checked():
    with pytest.raises(snn.NetworkError, match="carries no dt"):
        snn.nir.read(GRAPHS / "snn_leaky.nir")
    with pytest.raises(snn.NetworkError, match=r"Euler factor .* must be in \[0, 1\)"):
        snn.nir.read(GRAPHS / "snn_leaky.nir", dt=1e-2)  # tau < dt


def test_cli_import_export_info_run(tmp_path, capsys):
    from snn.cli import main

    toml = tmp_path / "leaky.toml"
    assert main(["nir", "import", str(GRAPHS / "snn_leaky.nir"), "-o", str(toml), "--dt", "1e-4"]) == 0
    assert "3 -> output: lag 2" in capsys.readouterr().out
    data = np.load(GRAPHS / "snn_leaky.npz")
    x = np.concatenate([data["inputs"][0], np.zeros((2, 10), np.uint8)])
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "r.npz"
    assert main(["run", str(toml), "--inputs", str(tmp_path / "x.npy"), "--quiet", "--out", str(out)]) == 0
    res = snn.Results.load(out)
    got = np.zeros((62, 6), bool)
    got[res.spikes["output"].steps, res.spikes["output"].ids] = True
    assert np.array_equal(got[2:], data["spikes__3"][0])
    assert main(["info", str(GRAPHS / "snn_leaky.nir"), "--dt", "1e-4"]) == 0
    assert "NIR graph: 2 Affine, 1 Input, 2 LIF, 1 Output" in capsys.readouterr().out
    assert main(["info", str(GRAPHS / "snn_leaky.nir")]) == 2
    assert "carries no dt" in capsys.readouterr().err
    model = tmp_path / "back.nir"
    assert main(["nir", "export", str(toml), "-o", str(model)]) == 0
    assert main(["run", str(model), "--inputs", str(tmp_path / "x.npy"), "--quiet", "--out", str(out)]) == 0
    again = snn.Results.load(out)
    assert np.array_equal(again.spikes["output"].steps, res.spikes["output"].steps)


@pytest.mark.parametrize(
    "kind, kwargs",
    [
        ("Conv1d", dict(stride=2, padding=1, dilation=2, groups=2)),
        ("Conv1d", dict(stride=1, padding="same", dilation=1, groups=1)),
        ("Conv2d", dict(stride=(2, 1), padding=(1, 0), dilation=1, groups=2)),
        ("Conv2d", dict(stride=1, padding="same", dilation=(1, 2), groups=1)),
    ],
)
def test_convolution_matrices_equal_torch(kind, kwargs):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from snn.nir.linear import transfer

    rng = np.random.default_rng(3)
    nd = 1 if kind == "Conv1d" else 2
    spatial = (9,) if nd == 1 else (7, 6)
    c_in, c_out, groups = 4, 6, kwargs["groups"]
    w = rng.normal(size=(c_out, c_in // groups, *(3,) * nd))
    b = rng.normal(size=c_out)
    node = getattr(nir, kind)(spatial if nd == 2 else spatial[0], w, kwargs["stride"], kwargs["padding"],
                              kwargs["dilation"], groups, b)  # fmt: skip
    x = rng.normal(size=(c_in, *spatial))
    t, bias, out_shape, _ = transfer("c", node, (c_in, *spatial), 1e-4)
    conv = F.conv1d if nd == 1 else F.conv2d
    want = conv(torch.as_tensor(x)[None], torch.as_tensor(w), torch.as_tensor(b), stride=kwargs["stride"],
                padding=kwargs["padding"], dilation=kwargs["dilation"], groups=groups)[0].numpy()  # fmt: skip
    assert out_shape == want.shape
    np.testing.assert_allclose(x.ravel() @ t + bias, want.ravel(), rtol=1e-12, atol=1e-12)


def test_a_file_that_fails_nirs_type_check_still_imports(tmp_path):
    # an Input with a batch dimension ([1, 3], as Norse writes for a batched sample) fails
    # nir.read's type check; the importer reads it unchecked and checks shapes itself
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(np.array([1, 3])),
            "a": nir.Linear(np.full((2, 3), 0.6)),
            "l": nir.LIF(np.full(2, 1e-3), np.full(2, 10.0), np.zeros(2), np.full(2, 0.5)),
            "output": nir.Output(np.array([2])),
        },
        edges=[("input", "a"), ("a", "l"), ("l", "output")],
        type_check=False,
    )
    nir.write(tmp_path / "batch.nir", graph)
    with pytest.raises(ValueError, match="type mismatch"):
        nir.read(tmp_path / "batch.nir")
    imported = snn.nir.read(tmp_path / "batch.nir", dt=1e-4)
    x = np.ones((10, 3), np.uint8)
    assert _spikes_at_lag(imported, x, "l", 2).any()
