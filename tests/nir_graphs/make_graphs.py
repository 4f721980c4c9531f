"""Write the NIR test graphs with snnTorch (run once; the files are checked in).

Each case builds a small snnTorch network with random per-neuron parameters (reset to
zero, ``reset_delay=False``: the only configuration NIR can express, see docs/nir.md),
exports it with snnTorch's own NIR exporter, runs it in snnTorch on random inputs and
saves, next to ``CASE.nir``, ``CASE.npz`` with ``inputs`` (trials, steps, *input shape) and
``spikes__NODE`` (trials, steps, n; flattened in C order) of every neuron node, named as in
the graph.

``norse_lifbox`` is the same for a Norse LIFBoxCell network (exported with Norse's
``to_nir(dt=1e-3)``, whose time constants are dt times too small: norse#411, so it
reproduces Norse at dt = 1e-6; docs/nir.md).

Versions used for the checked-in files: snntorch 1.0.0, nirtorch 2.6, nir 1.0.8,
norse 1.1.0, torch 2.13.0 (CPU). Regenerate with::

    pip install -c requirements/ci.txt snntorch==1.0.0 nirtorch==2.6
    pip install --no-deps norse==1.1.0   # its torchvision dependency is not needed here
    python tests/nir_graphs/make_graphs.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nir
import numpy as np
import snntorch as snn
import snntorch.utils
import torch
from snntorch.export_nir import export_to_nir

HERE = Path(__file__).parent
STEPS, TRIALS = 60, 4


def _leaky(n, gen):
    beta = torch.rand(n, generator=gen) * 0.5 + 0.45
    thr = torch.rand(n, generator=gen) * 0.6 + 0.6
    return snn.Leaky(beta=beta, threshold=thr, init_hidden=True, reset_mechanism="zero", reset_delay=False)


def _synaptic(n, gen):
    alpha = torch.rand(n, generator=gen) * 0.5 + 0.3
    beta = torch.rand(n, generator=gen) * 0.5 + 0.45
    thr = torch.rand(n, generator=gen) * 0.6 + 0.8
    return snn.Synaptic(
        alpha=alpha, beta=beta, threshold=thr, init_hidden=True, reset_mechanism="zero", reset_delay=False
    )


def _rleaky(n, gen):
    beta = torch.rand(n, generator=gen) * 0.5 + 0.45
    thr = torch.rand(n, generator=gen) * 0.6 + 0.6
    layer = snn.RLeaky(
        beta=beta, threshold=thr, linear_features=n, all_to_all=True, init_hidden=True,
        reset_mechanism="zero", reset_delay=False,
    )  # fmt: skip
    with torch.no_grad():
        layer.recurrent.weight.copy_((torch.rand(n, n, generator=gen) * 2 - 1) * 1.5 / n**0.5)
        layer.recurrent.bias.zero_()  # NIR leaves a recurrent bias at t = 0 undefined (docs/nir.md)
    return layer


def _linear(n_in, n_out, gen, bias=True, scale=2.0):
    lin = torch.nn.Linear(n_in, n_out, bias=bias)
    with torch.no_grad():
        lin.weight.copy_((torch.rand(n_out, n_in, generator=gen) * 2 - 1) * scale / n_in**0.5)
        if bias:
            lin.bias.copy_((torch.rand(n_out, generator=gen) * 2 - 1) * 0.2)
    return lin


def _conv_net(gen):
    """Conv2d (1 -> 2 channels, 6 x 6 -> 4 x 4) -> Leaky -> AvgPool2d(2) -> Flatten -> Linear -> Leaky."""
    conv = torch.nn.Conv2d(1, 2, 3)
    with torch.no_grad():
        conv.weight.copy_(torch.rand(2, 1, 3, 3, generator=gen) * 0.8 - 0.1)
        conv.bias.copy_(torch.rand(2, generator=gen) * 0.2 - 0.1)
    return torch.nn.Sequential(
        conv, _leaky((2, 4, 4), gen), torch.nn.AvgPool2d(2), torch.nn.Flatten(), _linear(8, 5, gen, scale=3.0),
        _leaky(5, gen),
    )  # fmt: skip


def cases(gen):
    """name -> (Sequential, input shape)."""
    return {
        "snn_leaky": (torch.nn.Sequential(_linear(10, 16, gen), _leaky(16, gen), _linear(16, 6, gen), _leaky(6, gen)), 10),
        "snn_synaptic": (
            torch.nn.Sequential(_linear(10, 16, gen), _synaptic(16, gen), _linear(16, 6, gen, bias=False), _synaptic(6, gen)),
            10,
        ),
        "snn_rleaky": (
            torch.nn.Sequential(_linear(10, 16, gen), _rleaky(16, gen), _linear(16, 6, gen), _leaky(6, gen)),
            10,
        ),
        "snn_conv": (_conv_net(gen), (1, 6, 6)),
    }  # fmt: skip


def run(model, x):
    """Spikes of every neuron module, (trials, steps, n) per module index (its NIR node name)."""
    out = {}
    hooks = []
    for idx, mod in enumerate(model):
        if isinstance(mod, snn.SpikingNeuron):

            def hook(_m, _inp, res, key=str(idx)):
                spk = res[0] if isinstance(res, tuple) else res
                out.setdefault(key, []).append(spk.detach().numpy().astype(bool))

            hooks.append(mod.register_forward_hook(hook))
    snn.utils.reset(model)
    with torch.no_grad():
        for t in range(x.shape[1]):
            model(x[:, t])
    for h in hooks:
        h.remove()
    return {k: np.stack(v, axis=1).reshape(x.shape[0], x.shape[1], -1) for k, v in out.items()}


def inputs(gen, trials, steps, shape, p=0.3):
    """Random 0/1 inputs, (trials, steps, *shape) float."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return (torch.rand(trials, steps, *shape, generator=gen) < p).float()


def export(model, x):
    """snnTorch's NIR export of ``model`` (sample: one step of ``x``, batch dim ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = export_to_nir(model, x[0, :1], ignore_dims=[0])
    snn.utils.reset(model)
    return graph


def norse_case(gen):
    """A Norse 1.1.0 LIFBoxCell network (-> NIR LIF nodes), per-neuron parameters, dt = 1 ms."""
    import norse.torch as nt

    def box(n):
        p = nt.LIFBoxParameters(
            tau_mem_inv=torch.rand(n, generator=gen) * 150 + 50, v_leak=torch.zeros(n),
            v_th=torch.rand(n, generator=gen) * 0.3 + 0.2, v_reset=torch.zeros(n),
        )  # fmt: skip
        return nt.LIFBoxCell(p, dt=1e-3)

    return nt.SequentialState(_linear(10, 16, gen), box(16), _linear(16, 6, gen, scale=5.0), box(6)), 10


def run_norse(model, x):
    """Norse's spikes of every cell, (trials, steps, n) per module index."""
    out, hooks = {}, []
    for idx, mod in enumerate(model):
        if type(mod).__name__ == "LIFBoxCell":

            def hook(_m, _inp, res, key=str(idx)):
                out.setdefault(key, []).append(res[0].detach().numpy().astype(bool))

            hooks.append(mod.register_forward_hook(hook))
    state = None
    with torch.no_grad():
        for t in range(x.shape[1]):
            _, state = model(x[:, t], state)
    for h in hooks:
        h.remove()
    return {k: np.stack(v, axis=1) for k, v in out.items()}


def write_norse(gen) -> None:
    """norse_lifbox.nir (Norse's own export, with its tau = dt * tau_file bug) and its spikes."""
    import norse.torch as nt

    model, n_in = norse_case(gen)
    x = (torch.rand(TRIALS, STEPS, n_in, generator=gen) < 0.3).float()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = nt.to_nir(model, x[0, 0], dt=1e-3)
        spikes = run_norse(model, x)
    nir.write(HERE / "norse_lifbox.nir", graph)
    np.savez_compressed(
        HERE / "norse_lifbox.npz",
        inputs=x.numpy().astype(np.uint8),
        **{f"spikes__{k}": v for k, v in spikes.items()},
    )
    print(
        f"norse_lifbox: nodes {sorted(graph.nodes)}, spikes per layer { {k: int(v.sum()) for k, v in spikes.items()} }"
    )


def main() -> None:
    """Write CASE.nir and CASE.npz for every case."""
    gen = torch.Generator().manual_seed(14)
    for name, (model, shape) in cases(gen).items():
        x = inputs(gen, TRIALS, STEPS, shape)
        graph = export(model, x)
        spikes = run(model, x)
        nir.write(HERE / f"{name}.nir", graph)
        np.savez_compressed(
            HERE / f"{name}.npz",
            inputs=x.numpy().astype(np.uint8),
            **{f"spikes__{k}": v for k, v in spikes.items()},
        )
        counts = {k: int(v.sum()) for k, v in spikes.items()}
        print(f"{name}: nodes {sorted(graph.nodes)}, spikes per layer {counts}")
    write_norse(torch.Generator().manual_seed(15))


if __name__ == "__main__":
    main()
