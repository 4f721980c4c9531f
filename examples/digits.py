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
- the core's gateware (hdl/, in the Amaranth simulator behind the host driver) on the
  first ``--rtl N`` test digits (default 5): its output spike counts must equal numba
  fixed mode's. The RTL runs cycle by cycle: a few minutes to load the 256 x 256 core over
  the protocol and read it back, then tens of seconds per digit.

    python examples/digits.py                  # full training (about 2-4 minutes on 2 CPU cores) + RTL
    python examples/digits.py --epochs 3 --rtl 0   # quick look, no RTL
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


def numba_fixed_counts(model: SpikingMLP, x: np.ndarray) -> np.ndarray:
    """Output spike counts ``(digits, classes)`` in numba fixed mode, one ``snn.simulate``
    per digit (the core's arithmetic)."""
    n_layers, n_out = len(model.sizes) - 1, model.sizes[-1]
    out = []
    for digit in x:
        net = model.to_network(*events(digit), N_STEPS)
        res = snn.simulate(net, mode="fixed", quantized=model.to_quantized(net), progress=False)
        out.append(_output_counts(res, n_layers, n_out))
    return np.array(out).reshape(len(x), n_out)


def numba_fixed_predictions(model: SpikingMLP, x: np.ndarray) -> np.ndarray:
    """Classes from the numba fixed mode."""
    return predict(numba_fixed_counts(model, x))


def torch_fixed_predictions(model: SpikingMLP, x: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Classes from the torch fixed mode: all digits in one batch (``inputs`` replaces the sources)."""
    n_layers, n_out = len(model.sizes) - 1, model.sizes[-1]
    template = model.to_network(np.zeros(0, np.int64), np.zeros(0, np.int64), N_STEPS)
    sim = TorchSimulator(template, "fixed", quantized=model.to_quantized(template), inputs=x, device=device)
    sim.run(N_STEPS)
    return predict(np.array([_output_counts(r, n_layers, n_out) for r in sim.results()]))


def rtl_counts(model: SpikingMLP, x: np.ndarray, *, progress: bool = True) -> np.ndarray:
    """Output spike counts ``(digits, classes)`` of the core's gateware in the Amaranth simulator, through the host driver.

    The quantized network is loaded once over the protocol (``firmware_host.Board`` on a
    pseudo-terminal served by :func:`hdl.link.rtl_device.serve_rtl`, as ``snn board ...
    --port sim-rtl`` does) and read back; each digit then gets RESET_STATE and its input
    spikes, and the output layer's spikes are counted. Slow (the RTL runs cycle by cycle):
    about a minute to load, seconds per digit.
    """
    from firmware_host.board import Board
    from hdl.link.rtl_device import serve_rtl

    n_layers, n_out = len(model.sizes) - 1, model.sizes[-1]
    template = model.to_network(np.zeros(0, np.int64), np.zeros(0, np.int64), N_STEPS)
    quantized = model.to_quantized(template)
    output = quantized.built.lif_slices[f"layer{n_layers}"]
    server = serve_rtl(quantized.spec)
    counts = []
    try:
        with Board(server.port, timeout=5.0, step_s=1.0) as board:
            board.load(quantized)
            for i, digit in enumerate(x):
                board.reset()
                steps, ids = np.nonzero(digit)
                inputs = [ids[steps == t] for t in range(N_STEPS)]
                spikes = board.run(N_STEPS, inputs=inputs)
                mine = spikes.neurons[(spikes.neurons >= output.start) & (spikes.neurons < output.stop)]
                counts.append(np.bincount(mine - output.start, minlength=n_out))
                if progress:
                    print(f"  RTL digit {i + 1}/{len(x)}", end="\r" if i + 1 < len(x) else "\n", flush=True)
    finally:
        server.close()
    return np.array(counts).reshape(len(x), n_out)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train, evaluate everywhere, print and return the accuracies."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--rtl", type=int, default=5, metavar="N", help="test digits to run on the simulated RTL (0: none)"
    )
    args = ap.parse_args(argv)
    train_x, train_y, test_x, test_y = load_task(seed=args.seed)
    t0 = time.perf_counter()
    model = train(train_x, train_y, hidden=args.hidden, epochs=args.epochs, seed=args.seed)
    print(f"trained in {time.perf_counter() - t0:.1f} s; weight LSB 2^({model.weight_shift()} - 10) mV")
    acc = {"float": float(np.mean(float_predictions(model, test_x) == test_y))}
    numba_counts = numba_fixed_counts(model, test_x)
    numba = predict(numba_counts)
    acc["fixed (numba)"] = float(np.mean(numba == test_y))
    tfixed = torch_fixed_predictions(model, test_x)
    acc["fixed (torch)"] = float(np.mean(tfixed == test_y))
    agree = bool(np.array_equal(numba, tfixed))
    rtl = rtl_counts(model, test_x[: args.rtl]) if args.rtl else None
    print(f"test digits: {len(test_y)}")
    for name, value in acc.items():
        print(f"  {name:<14} {100 * value:5.1f} %")
    print(f"  torch fixed predictions equal numba fixed: {agree}")
    if rtl is not None:
        acc["rtl"] = float(np.mean(predict(rtl) == test_y[: args.rtl]))
        same = bool(np.array_equal(rtl, numba_counts[: args.rtl]))
        print(f"  RTL, first {args.rtl} digits: {100 * acc['rtl']:5.1f} %")
        print(f"  RTL output spike counts equal numba fixed on those digits: {same}")
    return acc


if __name__ == "__main__":
    main()
