"""Link soak: N verified operations through a noisy line, and the payload rate it keeps.

A simulated core is served on a pseudo-terminal paced like a UART at ``--baud``, behind
a fault injector (``--faults``, the text form of ``snn board --faults``). The Board
driver writes random words to random places of four regions (weights, neuron
parameters, neuron state) and reads random ranges back; an *operation* is one write or
one read of 1..``--words`` words (default 64), sent in batches of ``--batch`` writes to
distinct blocks and as many reads, each batch pipelined by the driver. Every read is compared with a mirror of what was written, and at
the end every word of the four regions is read back and compared: a difference is a
*silent corruption* (the driver reported success, the data is wrong). A request the
driver gives up on is an error, not a silent corruption, and is reported too.

Reported per fault setting (the clean line first): operations, silent corruptions,
errors, wall time, payload bytes (the data words, as encoded on the wire) and the
payload rate over the line rate (baud / 10 bytes per second, one direction), frames
sent and resent, corrupted frames received, and the injector's counts.

    .venv/bin/python bench/link_soak.py --operations 100000 --baud 3000000 \\
        --faults drop=0.01,dup=0.01,flip=0.01

Exit status 1 if any silent corruption or error happened.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

import numpy as np

from firmware_host.board import Board
from firmware_host.errors import BoardError
from firmware_host.memory_map import Region, region_size
from firmware_host.protocol import word_format
from firmware_host.transports import FaultRates, fault_rates, link_options, serve_simulated
from snn.core_spec import CoreSpec

REGIONS = (Region.FF_WEIGHT, Region.REC_WEIGHT, Region.NEURON_PARAM, Region.NEURON_STATE)
SPEC = CoreSpec(max_inputs=64, max_neurons=64)


def random_words(
    rng: np.random.Generator, spec: CoreSpec, region: Region, index: int, count: int
) -> np.ndarray:
    """``count`` random words that fit the formats of ``region`` from ``index`` on."""
    fmt = word_format(spec, region, index, count)
    lo = np.where(fmt.signed, -(1 << (fmt.bits - 1)), 0)
    hi = np.where(fmt.signed, (1 << (fmt.bits - 1)) - 1, (1 << fmt.bits) - 1)
    return lo + (rng.random(count) * (hi - lo + 1)).astype(np.int64)


def soak(
    operations: int,
    faults: FaultRates | float | str | None,
    *,
    baud: int = 3_000_000,
    timeout: float = 0.01,
    seed: int = 0,
    spec: CoreSpec = SPEC,
    words: int = 64,
    batch: int = 32,
    max_seconds: float | None = None,
) -> dict:
    """Run ``operations`` verified writes and reads through a line with ``faults``; the figures.

    ``max_seconds`` stops earlier (after the batch that passes it): ``operations`` in the
    result says how many were done."""
    rates = fault_rates(faults, seed)
    rng = np.random.default_rng(seed)
    server = serve_simulated(spec, baud=baud, faults=rates)
    mirror = {r: np.zeros(region_size(spec, r), np.int64) for r in REGIONS}
    done = corruptions = errors = payload = 0
    try:
        with Board(server.port, baud, timeout=timeout, **(link_options(rates) if rates else {})) as board:
            board.write([(r, 0, mirror[r]) for r in REGIONS])  # a known start
            stats0 = asdict(board.link.stats)
            blocks = [(r, b) for r in REGIONS for b in range(region_size(spec, r) // words)]
            t0 = time.perf_counter()
            while done < operations and (max_seconds is None or time.perf_counter() - t0 < max_seconds):
                n = min(batch, max((operations - done) // 2, 1))
                writes = []
                # writes of one batch go to distinct blocks: frames may land in any order
                for k in rng.choice(len(blocks), size=min(n, len(blocks)), replace=False):
                    region, b = blocks[k]
                    count = int(rng.integers(1, words + 1))
                    index = b * words + int(rng.integers(0, words - count + 1))
                    writes.append((region, index, random_words(rng, spec, region, index, count)))
                reads = []
                for _ in range(n):
                    region = REGIONS[int(rng.integers(len(REGIONS)))]
                    count = int(rng.integers(1, words + 1))
                    reads.append((region, int(rng.integers(0, region_size(spec, region) - count + 1)), count))
                try:
                    board.write(writes)
                    for region, index, data in writes:
                        mirror[region][index : index + data.size] = data
                    got = board.read(reads)
                except BoardError:  # reported, never silent; the mirror no longer knows the core
                    errors += 1
                    break
                for (region, index, count), data in zip(reads, got):
                    corruptions += not np.array_equal(data, mirror[region][index : index + count])
                payload += sum(word_format(spec, r, i, w.size).total for r, i, w in writes)
                payload += sum(word_format(spec, r, i, c).total for r, i, c in reads)
                done += len(writes) + len(reads)
            wall = time.perf_counter() - t0
            if not errors:
                final = board.read([(r, 0, region_size(spec, r)) for r in REGIONS])
                corruptions += sum(not np.array_equal(got, mirror[r]) for r, got in zip(REGIONS, final))
            stats = {k: v - stats0[k] for k, v in asdict(board.link.stats).items()}
    finally:
        server.close()
    counts = asdict(server.device.counts) if rates else {}
    return {
        "faults": rates.describe(),
        "baud": baud,
        "operations": done,
        "silent_corruptions": corruptions,
        "errors": errors,
        "wall_s": wall,
        "payload_bytes": payload,
        "payload_over_line": payload / wall / (baud / 10),
        "link": stats,
        "injected": counts,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the soak on a clean line and on the faulty one; print a table (or JSON)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--operations", type=int, default=100_000, help="operations per line (default 100000)")
    p.add_argument("--baud", type=int, default=3_000_000, help="line rate (default 3000000)")
    p.add_argument(
        "--faults", default="drop=0.01,dup=0.01,flip=0.01", help="fault rates (snn board --faults)"
    )
    p.add_argument(
        "--timeout", type=float, default=0.01, help="driver's base reply time-out, s (default 0.01)"
    )
    p.add_argument("--words", type=int, default=64, help="most words per operation (default 64)")
    p.add_argument("--batch", type=int, default=32, help="writes (and reads) per batch (default 32)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--max-seconds", type=float, help="stop each line's run after this long (reports what was done)"
    )
    p.add_argument("--no-clean", action="store_true", help="skip the run on a clean line")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    settings = ([None] if not args.no_clean else []) + [args.faults]
    options = dict(
        baud=args.baud,
        timeout=args.timeout,
        seed=args.seed,
        words=args.words,
        batch=args.batch,
        max_seconds=args.max_seconds,
    )
    results = [soak(args.operations, f, **options) for f in settings]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"link soak, {args.baud} baud, {args.operations} operations of 1..{args.words} words per line, "
            f"batches of {args.batch} writes and {args.batch} reads"
        )
        for r in results:
            link, inj = r["link"], r["injected"]
            hits = ", ".join(f"{k} {v}" for k, v in inj.items() if k not in ("bytes", "frames") and v)
            print(
                f"  {r['faults']}: {r['operations']} operations, {r['silent_corruptions']} silent corruptions, "
                f"{r['errors']} errors; {r['wall_s']:.1f} s, payload {r['payload_bytes']:,} B, "
                f"payload/line {r['payload_over_line']:.3f}; {link['frames_sent']} frames sent, "
                f"{link['resent']} resent, {link['bad_frames']} corrupted received"
                + (f"; injected: {hits} in {inj['bytes']:,} bytes" if inj else "")
            )
    return 1 if any(r["silent_corruptions"] or r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
