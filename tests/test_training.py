"""Surrogate-gradient training: it learns, it respects the core, and it deploys bit-exactly.

The digits test is a reduced run of examples/digits.py (fewer epochs and samples); the
full example reaches the accuracy the README reports.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_examples import load_example

import snn

torch = pytest.importorskip("torch")
from snn.torch_backend.training import SpikingMLP, count_loss, fit, rate_code  # noqa: E402


def _tiny_task(n: int = 64):
    """Two classes: the left or the right half of 8 inputs is bright."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, n)
    values = rng.uniform(0.0, 0.2, (n, 8))
    values[labels == 0, :4] += 0.8
    values[labels == 1, 4:] += 0.8
    return torch.from_numpy(rate_code(values, 20)), torch.from_numpy(labels)


def test_training_reduces_the_loss_on_a_tiny_task():
    x, y = _tiny_task()
    model = SpikingMLP([8, 16, 2], slope=1.0, weight_scale=40.0, seed=3)
    history = fit(model, x, y, epochs=8, batch_size=16)
    assert history[-1] < 0.5 * history[0], history


def test_qat_forward_uses_core_weights_and_gradients_pass_straight_through():
    x, y = _tiny_task(16)
    model = SpikingMLP([8, 16, 2], slope=1.0, weight_scale=40.0, seed=3)
    lsb = 2.0 ** (model.weight_shift() - model.spec.frac_bits)
    for w in model.effective_weights():
        k = w.detach().double() / lsb
        assert torch.equal(k, torch.round(k)) and k.abs().max() <= 128
    count_loss(model(x), y).backward()
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in model.weights)


def test_export_fits_the_core_and_keeps_the_trained_integers():
    model = SpikingMLP([8, 16, 2], seed=3)
    net = model.to_network(np.array([0, 3]), np.array([0, 1]), 10)
    q = model.to_quantized(net)
    assert q.spec == snn.CoreSpec()
    shift, weights_mV = model.quantized_weights()
    assert q.weight_shift == shift
    dense = np.zeros((8 + 16, 18))  # (pre, post) over all layers, recovered from the quantized network
    for name in net.projections:
        pre, post = q.built.projection_pairs(name)
        offset = (0, 0) if name.startswith("w1") else (8, 16)
        dense[pre + offset[0], post + offset[1]] = q.built.projection_weights(name, q.weight)
    want = np.zeros_like(dense)
    want[:8, :16] = weights_mV[0] / q.weight_lsb
    want[8:, 16:] = weights_mV[1] / q.weight_lsb
    np.testing.assert_array_equal(dense, want)


def test_digits_reduced_training_deploys_to_fixed_mode():
    digits = load_example("digits")
    train_x, train_y, test_x, test_y = digits.load_task(n_test=100, seed=0)
    model = digits.train(train_x, train_y, hidden=64, epochs=5, seed=0, log=None)
    float_acc = np.mean(digits.float_predictions(model, test_x) == test_y)
    numba = digits.numba_fixed_predictions(model, test_x)
    torch_fixed = digits.torch_fixed_predictions(model, test_x)
    np.testing.assert_array_equal(torch_fixed, numba)  # the torch fixed mode predicts the core exactly
    fixed_acc = np.mean(numba == test_y)
    assert float_acc >= 0.8, float_acc  # chance is 0.1
    assert fixed_acc >= 0.8, fixed_acc
