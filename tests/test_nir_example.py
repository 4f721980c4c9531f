"""examples/nir_digits.py: the checked-in snnTorch digit classifier classifies through NIR."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("nir")
pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "nir_digits.py"


def test_imported_snntorch_classifier_keeps_its_accuracy_in_float_and_fixed_mode():
    spec = importlib.util.spec_from_file_location("nir_digits", EXAMPLE)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    import snn

    _, _, x_test, y_test = ex.data()
    spikes, labels = ex.encode(x_test[:60], 999), y_test[:60]
    imported = snn.nir.read(ex.MODEL, dt=1e-4)
    snn.quantize(imported.network)  # fits the default core as it is
    lag = imported.lags["output"]
    assert lag == 2
    # snnTorch itself: 0.964 on all 360 held-out digits; float 0.964, fixed 0.961 (docs/nir.md)
    assert ex.accuracy(imported.network, spikes, labels, "float", lag) >= 0.9
    assert ex.accuracy(imported.network, spikes, labels, "fixed", lag) >= 0.9
