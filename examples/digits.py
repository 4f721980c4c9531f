"""Handwritten digits on the default core: surrogate-gradient training that deploys bit-exactly.

scikit-learn's bundled 8x8 digits (1797 images, no download) are rate-coded into 64
regular spike trains; a 64 -> 128 -> 10 LIF network (138 neurons, delay 1, 8-bit
weights: it fits the default CoreSpec) is trained with BPTT and a surrogate gradient,
with quantization-aware training so that the float model already uses the core's
weights. The class is the output neuron with the most spikes. The script reports the
test accuracy of

- the float model (torch, the training forward pass),
- the quantized network in numba fixed mode (``snn.simulate(net, mode="fixed")`` on every
  test digit: the core's integer arithmetic, bit for bit),
- the same in the torch fixed mode (one batch of all test digits; predictions must equal
  numba's),
- the RTL on a subset (``--rtl N``; pending until hdl/ exposes a runner).

    python examples/digits.py                  # full training (about 2-4 minutes on 2 CPU cores)
    python examples/digits.py --epochs 3       # quick look
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import snn
from snn.torch_backend import TorchSimulator
from snn.torch_backend.training import SpikingMLP, fit, predict, rate_code

N_STEPS = 25  # timesteps per digit (dt = 1 ms)
MAX_PROB = 0.5  # a white pixel spikes every other step


def load_task(n_test: int = 360, seed: int = 0):
    """``(train_spikes, train_labels, test_spikes, test_labels)``: spikes ``(B, N_STEPS, 64)`` float32."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    spikes = rate_code(digits.data / 16.0, N_STEPS, MAX_PROB)
    order = np.random.default_rng(seed).permutation(len(digits.target))
    test, train = order[:n_test], order[n_test:]
    labels = digits.target.astype(np.int64)
    return spikes[train], labels[train], spikes[test], labels[test]


def train(train_x: np.ndarray, train_y: np.ndarray, *, hidden: int = 128, epochs: int = 30, seed: int = 0,
          log=print) -> SpikingMLP:  # fmt: skip
    """A QAT-trained 64 -> ``hidden`` -> 10 network."""
    torch.manual_seed(seed)
    model = SpikingMLP(
        [train_x.shape[2], hidden, 10], dt=1.0, qat=True, slope=1.0, weight_scale=40.0, seed=seed
    )
    fit(model, torch.from_numpy(train_x), torch.from_numpy(train_y), epochs=epochs, batch_size=128, lr=0.1,
        seed=seed, log=log)  # fmt: skip
    return model


def events(spikes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, steps)`` of one digit's ``(N_STEPS, 64)`` spike raster."""
    steps, ids = np.nonzero(spikes)
    return ids, steps


def float_predictions(model: SpikingMLP, x: np.ndarray) -> np.ndarray:
    """Classes from the float (training) model."""
    with torch.no_grad():
        return predict(model(torch.from_numpy(x)).sum(dim=1))


def _output_counts(res: snn.Results, n_layers: int, n_out: int) -> np.ndarray:
    return np.bincount(res.spikes[f"layer{n_layers}"].ids, minlength=n_out)


def numba_fixed_predictions(model: SpikingMLP, x: np.ndarray) -> np.ndarray:
    """Classes from the numba fixed mode, one ``snn.simulate`` per digit (the core's arithmetic)."""
    n_layers, n_out = len(model.sizes) - 1, model.sizes[-1]
    out = []
    for digit in x:
        net = model.to_network(*events(digit), N_STEPS)
        res = snn.simulate(net, mode="fixed", quantized=model.to_quantized(net), progress=False)
        out.append(_output_counts(res, n_layers, n_out))
    return predict(np.array(out))


def torch_fixed_predictions(model: SpikingMLP, x: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Classes from the torch fixed mode: all digits in one batch (``inputs`` replaces the sources)."""
    n_layers, n_out = len(model.sizes) - 1, model.sizes[-1]
    template = model.to_network(np.zeros(0, np.int64), np.zeros(0, np.int64), N_STEPS)
    sim = TorchSimulator(template, "fixed", quantized=model.to_quantized(template), inputs=x, device=device)
    sim.run(N_STEPS)
    return predict(np.array([_output_counts(r, n_layers, n_out) for r in sim.results()]))


def rtl_predictions(model: SpikingMLP, x: np.ndarray) -> np.ndarray | None:
    """Classes from the simulated RTL core, or None while hdl/ has no runner for a QuantizedNetwork.

    Pending: the gateware (hdl/) is being built; when it exposes "load a QuantizedNetwork,
    feed input spikes, read output spikes", call it here on ``model.to_quantized(net)``
    for each digit, exactly as :func:`numba_fixed_predictions` does.
    """
    return None


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train, evaluate everywhere, print and return the accuracies."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--rtl", type=int, default=20, metavar="N", help="test digits to run on the simulated RTL"
    )
    args = ap.parse_args(argv)
    train_x, train_y, test_x, test_y = load_task(seed=args.seed)
    t0 = time.perf_counter()
    model = train(train_x, train_y, hidden=args.hidden, epochs=args.epochs, seed=args.seed)
    print(f"trained in {time.perf_counter() - t0:.1f} s; weight LSB 2^({model.weight_shift()} - 10) mV")
    acc = {"float": float(np.mean(float_predictions(model, test_x) == test_y))}
    numba = numba_fixed_predictions(model, test_x)
    acc["fixed (numba)"] = float(np.mean(numba == test_y))
    tfixed = torch_fixed_predictions(model, test_x)
    acc["fixed (torch)"] = float(np.mean(tfixed == test_y))
    agree = bool(np.array_equal(numba, tfixed))
    rtl = rtl_predictions(model, test_x[: args.rtl])
    print(f"test digits: {len(test_y)}")
    for name, value in acc.items():
        print(f"  {name:<14} {100 * value:5.1f} %")
    print(f"  torch fixed predictions equal numba fixed: {agree}")
    if rtl is None:
        print(f"  RTL ({args.rtl} digits): pending (hdl/ has no QuantizedNetwork runner yet)")
    else:
        acc["rtl"] = float(np.mean(rtl == test_y[: args.rtl]))
        print(f"  RTL ({args.rtl} digits): {100 * acc['rtl']:5.1f} %")
    return acc


if __name__ == "__main__":
    main()
