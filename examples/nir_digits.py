"""A digit classifier trained in snnTorch, brought in through NIR, run in float and fixed mode.

``python examples/nir_digits.py --train`` (needs snntorch) trains a 64-32-10 network of
``snn.Synaptic`` neurons (current-based LIF: NIR CubaLIF, which the core can run) on
scikit-learn's 8x8 digits, rate-coded over 25 steps, and writes
``examples/networks/digits_snntorch.nir`` with snnTorch's own NIR exporter.
``python examples/nir_digits.py`` imports that file (dt = 1e-4 s, snnTorch's convention)
and classifies held-out digits by output spike counts in our float mode and in the core's
fixed-point arithmetic (training prints snnTorch's own held-out accuracy).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

import snn

MODEL = Path(__file__).resolve().parent / "networks" / "digits_snntorch.nir"
STEPS, HIDDEN = 25, 32


def data(seed: int = 0):
    """Digits scaled to [0, 1]: (x_train, y_train, x_test, y_test), a fixed 80/20 split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    x, y = digits.data[order] / 16.0, digits.target[order]
    cut = int(0.8 * len(y))
    return x[:cut], y[:cut], x[cut:], y[cut:]


def encode(x: np.ndarray, seed: int) -> np.ndarray:
    """Rate code: (samples, STEPS, 64) 0/1, pixel value = spike probability per step."""
    rng = np.random.default_rng(seed)
    return (rng.random((x.shape[0], STEPS, x.shape[1])) < x[:, None, :]).astype(np.uint8)


def model(seed: int = 0):
    """The snnTorch network: Linear -> Synaptic -> Linear -> Synaptic, zero reset (NIR's)."""
    import snntorch
    import torch

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)

    def synaptic(n):
        return snntorch.Synaptic(
            alpha=torch.rand(n, generator=gen) * 0.3 + 0.5, beta=torch.rand(n, generator=gen) * 0.2 + 0.75,
            threshold=torch.ones(n), init_hidden=True, reset_mechanism="zero", reset_delay=False,
        )  # fmt: skip

    return torch.nn.Sequential(
        torch.nn.Linear(64, HIDDEN, bias=False), synaptic(HIDDEN), torch.nn.Linear(HIDDEN, 10, bias=False),
        synaptic(10),
    )  # fmt: skip


def run_snntorch(net, spikes: np.ndarray) -> np.ndarray:
    """Output spike counts (samples, 10) of the snnTorch network."""
    import snntorch.utils
    import torch

    x = torch.as_tensor(spikes, dtype=torch.float32)
    snntorch.utils.reset(net)
    counts = 0
    for t in range(x.shape[1]):
        out = net(x[:, t])
        counts = counts + (out[0] if isinstance(out, tuple) else out)
    return counts.detach().numpy()


def train(epochs: int = 10, seed: int = 0) -> None:
    """Train in snnTorch (surrogate gradients) and export to NIR."""
    import nir
    import snntorch.utils
    import torch
    from snntorch.export_nir import export_to_nir

    x_train, y_train, x_test, y_test = data(seed)
    net = model(seed)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=5e-3)
    y = torch.as_tensor(y_train)
    for epoch in range(epochs):
        spikes = torch.as_tensor(encode(x_train, seed + 1 + epoch), dtype=torch.float32)
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(epoch))
        for start in range(0, len(y), 64):
            idx = order[start : start + 64]
            snntorch.utils.reset(net)
            counts = 0
            for t in range(STEPS):
                counts = counts + net(spikes[idx, t])
            loss = torch.nn.functional.cross_entropy(counts, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            acc = np.mean(run_snntorch(net, encode(x_test, 999)).argmax(1) == y_test)
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, held-out accuracy {acc:.3f}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = export_to_nir(net, torch.zeros(1, 64), ignore_dims=[0])
    nir.write(MODEL, graph)
    print(f"wrote {MODEL}")


def accuracy(network: snn.Network, spikes: np.ndarray, labels: np.ndarray, mode: str, lag: int) -> float:
    """Held-out accuracy of an imported network by output spike counts (one run per digit)."""
    right = 0
    pad = np.zeros((lag, spikes.shape[2]), np.uint8)
    for x, label in zip(spikes, labels):
        res = snn.simulate(network, mode, inputs={"input": np.concatenate([x, pad])}, progress=False)
        out = res.spikes["output"]
        counts = np.bincount(out.ids[out.steps >= lag], minlength=10)
        right += int(np.argmax(counts) == label and counts.max() > 0)
    return right / len(labels)


def main() -> None:
    """Train (``--train``) or evaluate the checked-in NIR model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="train in snnTorch and write the NIR file")
    parser.add_argument("--samples", type=int, default=100, help="held-out digits to classify (default 100)")
    args = parser.parse_args()
    if args.train:
        train()
        return
    _, _, x_test, y_test = data()
    spikes, labels = encode(x_test[: args.samples], 999), y_test[: args.samples]
    imported = snn.nir.read(MODEL, dt=1e-4)
    lag = imported.lags["output"]
    print(imported.report())
    for mode in ("float", "fixed"):
        print(f"{mode}: {accuracy(imported.network, spikes, labels, mode, lag):.3f} on {len(labels)} digits")


if __name__ == "__main__":
    main()
