"""Brian2 reference spike statistics for the CUBA benchmark network.

usage: .peers-venv/bin/python bench/peers/cuba_stats_brian2.py N SECONDS SEED

Builds the same network as shared/bench/peers/cuba_brian2.py (runtime device, Cython
codegen), seeds Brian2 with SEED and prints one JSON line: N, T, seed, spikes,
mean_rate_hz, cv_isi (mean ISI CV over neurons with >= 3 spikes), n_neurons_cv and
frac_fired (fraction of neurons with at least one spike).
"""

import json
import sys

import numpy as np
from brian2 import (
    NeuronGroup,
    SpikeMonitor,
    Synapses,
    defaultclock,
    ms,
    mV,
    prefs,
    run,
    second,
    seed,
)

EQS = """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
dge/dt = -ge / taue : volt
dgi/dt = -gi / taui : volt"""


def main(n: int, t: float, rng_seed: int) -> dict:
    prefs.codegen.target = "cython"
    defaultclock.dt = 0.1 * ms
    seed(rng_seed)
    ns = {
        "taum": 20 * ms,
        "taue": 5 * ms,
        "taui": 10 * ms,
        "Vt": -50 * mV,
        "Vr": -60 * mV,
        "El": -49 * mV,
    }
    group = NeuronGroup(
        n, EQS, threshold="v > Vt", reset="v = Vr", refractory=5 * ms, method="exact", namespace=ns
    )
    group.v = "Vr + rand() * (Vt - Vr)"
    n_exc = int(n * 0.8)
    p = 0.02 * 4000 / n  # in-degree of N=4000, p=0.02 at every N
    exc = Synapses(group, group, on_pre="ge += (60 * 0.27 / 10) * mV")
    inh = Synapses(group, group, on_pre="gi += (-20 * 4.5 / 10) * mV")
    exc.connect(f"i < {n_exc}", p=p)
    inh.connect(f"i >= {n_exc}", p=p)
    mon = SpikeMonitor(group)
    run(t * second)

    cvs = []
    for times in mon.spike_trains().values():
        if len(times) >= 3:
            isi = np.diff(np.asarray(times / second))
            cvs.append(isi.std() / isi.mean())
    spikes = int(mon.num_spikes)
    return {
        "N": n,
        "T": t,
        "seed": rng_seed,
        "spikes": spikes,
        "mean_rate_hz": spikes / n / t,
        "cv_isi": float(np.mean(cvs)) if cvs else None,
        "n_neurons_cv": len(cvs),
        "frac_fired": float(np.count_nonzero(np.asarray(mon.count)) / n),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]))))
