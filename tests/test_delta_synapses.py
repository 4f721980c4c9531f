"""Delta synapses (``tau_syn_e/i = 0``): a weight jumps ``v`` in the step it arrives (float and fixed mode)."""

from __future__ import annotations

import numpy as np
import pytest

import snn


def _net():
    net = snn.Network(dt=0.1, duration=3.0)
    net.spikes("in", 1, ids=[0, 0], steps=[2, 5])
    out = net.lif("out", 1, tau_m=2.0, tau_syn_e=0.0, tau_syn_i=0.0, v_rest=0.0, v_reset=0.0,
                  v_init=0.0, v_thresh=10.0, t_ref=0.0)  # fmt: skip
    net.connect("e", "in", out, weight=1.5)
    net.record_state(out, ("v", "i_e"))
    return net


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_a_delta_synapse_jumps_v_and_decays_with_the_membrane(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    kwargs = {"dtype": "float64"} if backend == "torch" else {}
    res = snn.simulate(_net(), backend=backend, **kwargs)
    v = res.state["out"]["v"][:, 0]
    beta = np.exp(-0.1 / 2.0)
    want = np.zeros(30)
    for n in range(30):  # spikes at steps 2 and 5 arrive one step later
        want[n] = (want[n - 1] * beta if n else 0.0) + (1.5 if n in (3, 6) else 0.0)
    np.testing.assert_allclose(v, want, rtol=1e-12, atol=1e-15)
    assert not np.any(res.state["out"]["i_e"])


def test_fixed_mode_runs_delta_synapses_the_same_in_numba_torch_and_the_reference():
    from snn.testing.reference_core import ReferenceCore

    net = _net()
    net.populations["in"] = snn.SpikeSource("in", 1, ids=[0] * 6, steps=[2, 3, 4, 5, 9, 10])
    net.populations["out"].v_thresh = 3.0
    q = snn.quantize(net, require_fit=False)
    assert int(q.p_e[0]) == 1 << q.spec.coef_bits and int(q.a_e[0]) == 0  # p = 1.0, a = 0
    res = snn.simulate(net, "fixed")
    core = ReferenceCore(q)
    steps = [n for n, spikes in enumerate(core.run(30)) if spikes]
    assert steps and steps == list(res.spikes["out"].steps)
    v = res.state_raw["out"]["v"][:, 0]
    assert v[3] == int(q.weight[0]) << q.weight_shift  # the weight jumped v, no current left
    assert not np.any(res.state_raw["out"]["i_e"])
    pytest.importorskip("torch")
    rt = snn.simulate(net, "fixed", backend="torch")
    assert np.array_equal(rt.state_raw["out"]["v"], res.state_raw["out"]["v"])


def test_the_core_refuses_delta_synapses_in_one_line():
    with pytest.raises(
        snn.FitError, match=r"tau_syn_e = 0 \(delta synapses\) needs the propagator p = 2\^coef_bits"
    ):
        snn.quantize(_net())
