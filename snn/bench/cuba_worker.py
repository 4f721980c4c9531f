"""One CUBA run of our simulator, in its own process, printing one JSON line.

usage: python -m snn.bench.cuba_worker N SECONDS MODE DTYPE THREADS [SEED]
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main(argv: list[str]) -> None:
    """Run one configuration and print its JSON line."""
    n, seconds, mode, dtype, threads = int(argv[0]), float(argv[1]), argv[2], argv[3], int(argv[4])
    seed = int(argv[5]) if len(argv) > 5 else 1
    from snn.models import cuba
    from snn.sim import Simulator

    t0 = time.perf_counter()
    net = cuba(n, duration=seconds * 1000.0, seed=seed)
    sim = Simulator(net, mode=mode, dtype=dtype, threads=threads, progress=False)
    build_s = time.perf_counter() - t0
    build_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    sim.run(0)  # compile, or load numba's cache (compile_s)
    cpu0 = time.process_time()
    sim.run(net.n_steps)
    cpu_s = time.process_time() - cpu0  # CPU seconds of the run, all threads
    res = sim.results()
    n_syn = sim.built.n_synapses
    print(
        json.dumps(
            {
                "peer": f"snn-{mode}-{dtype}-{threads}t",
                "N": n,
                "syn": n_syn,
                "T": seconds,
                "spikes": int(res.n_spikes),
                "events": int(res.n_events),
                "build_s": round(build_s, 3),
                "build_peak_mb": round(build_peak, 1),
                "compile_s": round(res.compile_s, 3),
                "wall_s": round(res.run_s, 4),
                "cpu_s": round(cpu_s, 4),
                "synapse_bytes": int(sim.synapse_bytes()),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
