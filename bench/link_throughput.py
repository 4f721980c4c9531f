"""Link throughput: a bulk load of the default core's weights (256x256 FF + 256x256 REC).

For each line rate, a simulated core is served on a pseudo-terminal that holds every
byte for the 10 bit times of 8N1 at that rate (both directions), and the Board driver
writes both matrices through it, pipelined with the core's credits. Reported:

- payload / line: weight bytes over the bytes the host put on the wire (framing,
  addresses, COBS, CRC and delimiters included): the protocol's efficiency;
- wire time: bytes on the wire x 10 / baud, the time a perfect UART would need;
- measured: wall time of the load through the pty (ACK latency and pipeline stalls
  included), and the payload rate it achieved over the line rate.

    .venv/bin/python bench/link_throughput.py [--baud 115200 3000000] [--verify]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from firmware_host.board import Board
from firmware_host.memory_map import Region
from firmware_host.transports import serve_simulated
from snn.core_spec import CoreSpec


def bulk_writes(spec: CoreSpec, seed: int = 0) -> list[tuple[Region, int, np.ndarray]]:
    """Every row of both weight matrices, random 8-bit weights."""
    rng = np.random.default_rng(seed)
    lo, hi = spec.weight_range
    out = []
    for region, rows in ((Region.FF_WEIGHT, spec.max_inputs), (Region.REC_WEIGHT, spec.max_neurons)):
        for row in range(rows):
            out.append((region, row * spec.max_neurons, rng.integers(lo, hi + 1, spec.max_neurons)))
    return out


def measure(baud: int, verify: bool) -> dict:
    """Load both matrices at ``baud`` through a paced pty; return the figures."""
    spec = CoreSpec()
    writes = bulk_writes(spec)
    payload = sum(w.size for _, _, w in writes)  # one byte per 8-bit weight
    server = serve_simulated(spec, baud=baud)
    try:
        with Board(server.port, baud, timeout=0.1) as board:
            sent0 = board.link.stats.bytes_sent
            t0 = time.perf_counter()
            board.write(writes)
            wall = time.perf_counter() - t0
            wire = board.link.stats.bytes_sent - sent0
            frames = board.link.stats.frames_sent - 1
            if verify:
                board.verify(writes)
    finally:
        server.close()
    return {
        "baud": baud,
        "payload_bytes": payload,
        "wire_bytes": wire,
        "frames": frames,
        "efficiency": payload / wire,
        "wire_s": wire * 10 / baud,
        "measured_s": wall,
        "measured_efficiency": payload * 10 / baud / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baud", type=int, nargs="+", default=[115200, 3_000_000])
    parser.add_argument("--verify", action="store_true", help="read everything back afterwards (not timed)")
    args = parser.parse_args()
    print(f"{'baud':>9} {'payload B':>10} {'wire B':>8} {'frames':>7} {'payload/line':>13} {'wire time':>10} "
          f"{'measured':>9} {'measured payload/line':>22}")  # fmt: skip
    for baud in args.baud:
        r = measure(baud, args.verify)
        print(
            f"{r['baud']:>9} {r['payload_bytes']:>10} {r['wire_bytes']:>8} {r['frames']:>7} {r['efficiency']:>13.3f} "
            f"{r['wire_s']:>9.2f}s {r['measured_s']:>8.2f}s {r['measured_efficiency']:>22.3f}"
        )


if __name__ == "__main__":
    main()
