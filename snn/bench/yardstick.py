"""The yardstick: the simplest correct numba loop on the CUBA network, in its own process.

One loop over the neurons (the same exact integration as the engine, in float32), then
a push over the CSR rows of the neurons that spiked, adding each weight into the target's
current (excitatory if >= 0): no ring buffer, no blocks, no spike flags, no monitors, no
threads. It runs the network that the engine builds, with the engine's coefficients, and
adds the same float32 numbers in the same order, so its spike count equals the engine's:
the benchmark table's ratio to it says what the engine's structure costs or gains.

usage: python -m snn.bench.yardstick N SECONDS [SEED]
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np
from numba import njit


@njit(cache=True)
def run_plain(n_steps, v, i_e, i_i, ref, ptr, post, weight, coef, r_steps, spikes):
    """Advance ``n_steps`` steps; returns the number of spikes.

    ``coef``: v_inf, v_thresh, v_reset, e_m, a_e, a_i, p_e, p_i (one set for every neuron).
    """
    v_inf, v_th, v_reset, e_m = coef[0], coef[1], coef[2], coef[3]
    a_e, a_i, p_e, p_i = coef[4], coef[5], coef[6], coef[7]
    total = 0
    for _ in range(n_steps):
        n_spk = 0
        for j in range(v.size):
            r = max(ref[j] - 1, 0)
            vn = v_inf + (v[j] - v_inf) * e_m + p_e * i_e[j] + p_i * i_i[j]
            if r == 0 and vn >= v_th:
                v[j] = v_reset
                ref[j] = r_steps
                spikes[n_spk] = j
                n_spk += 1
            else:
                if r == 0:
                    v[j] = vn
                ref[j] = r
            i_e[j] *= a_e
            i_i[j] *= a_i
        for s in range(n_spk):
            k = spikes[s]
            for q in range(ptr[k], ptr[k + 1]):
                w = weight[q]
                if w >= 0:
                    i_e[post[q]] += w
                else:
                    i_i[post[q]] += w
        total += n_spk
    return total


def main(argv: list[str]) -> None:
    """Build CUBA, run the plain loop, print one JSON line."""
    n, seconds = int(argv[0]), float(argv[1])
    seed = int(argv[2]) if len(argv) > 2 else 1
    from snn.models import cuba
    from snn.sim import Simulator

    t0 = time.perf_counter()
    net = cuba(n, duration=seconds * 1000.0, seed=seed)
    # the engine's network and coefficients (its own arrays are shared or small)
    sim = Simulator(net, mode="float", dtype="float32", threads=1, progress=False)
    if sim._seg_par.shape[0] != 1 or sim.built.max_delay != 1:
        raise SystemExit("yardstick: needs one parameter set for all neurons and delays of one step (CUBA)")
    b = sim.built
    coef = np.ascontiguousarray(sim._seg_par[0], np.float32)
    r_steps = int(sim._aux[0])
    v = sim.v.copy()
    i_e = np.zeros(b.n_neurons, np.float32)
    i_i = np.zeros(b.n_neurons, np.float32)
    ref = np.zeros(b.n_neurons, np.int32)
    spikes = np.zeros(max(b.n_neurons, 1), np.int64)
    ptr, post, weight = b.syn_ptr, b.syn_post, b.syn_weight
    build_s = time.perf_counter() - t0
    build_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    t1 = time.perf_counter()
    run_plain(0, v, i_e, i_i, ref, ptr, post, weight, coef, r_steps, spikes)  # compile / load
    compile_s = time.perf_counter() - t1
    t2, cpu0 = time.perf_counter(), time.process_time()
    count = run_plain(net.n_steps, v, i_e, i_i, ref, ptr, post, weight, coef, r_steps, spikes)
    wall, cpu = time.perf_counter() - t2, time.process_time() - cpu0
    print(
        json.dumps(
            {
                "peer": "yardstick",
                "N": n,
                "syn": b.n_synapses,
                "T": seconds,
                "spikes": int(count),
                "build_s": round(build_s, 3),
                "build_peak_mb": round(build_peak, 1),
                "compile_s": round(compile_s, 3),
                "wall_s": round(wall, 4),
                "cpu_s": round(cpu, 4),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
