"""``snn bench cuba``: the CUBA network with our simulator, a plain yardstick and the peers, side by side.

Every configuration runs in a fresh process (so peak memory is its own), one at a time,
``repeats`` times, interleaved: repeat r runs every configuration of a size before
repeat r + 1 starts, so that a slow minute of the shared machine hits all of them alike.
The table gives the median of the repeats with their range, and ratios taken within
each repeat. Before the first repeat, each of our configurations (and the yardstick) runs
once on a small network, unmeasured, so that numba's on-disk cache holds the compiled
kernels: every measured process loads them (no compiling), as a user's second run of the
same command does. Peers come from their own virtual environment (Brian2 needs numpy < 2),
set up with ``bash ../shared/bench/peers/setup.sh .peers-venv``. The yardstick
(:mod:`snn.bench.yardstick`) is the simplest correct numba loop on the same network.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .processes import BenchError, Measurement, python_module, run_json

PEER_SCRIPTS = {
    "brian2": ("cuba_brian2.py", ["cpp_standalone"]),
    "nest": ("cuba_nest.py", ["1"]),
}
YARDSTICK = "yardstick"
# the unmeasured warm-up run of each configuration: neurons per thread (enough for the
# lockstep kernel to be the one loaded: snn.sim.simulator.LOCKSTEP_MIN_NEURONS_PER_THREAD)
_WARM_N_PER_THREAD, _WARM_SECONDS = 4000, 0.01


@dataclass
class Row:
    """All measurements at one network size: ``runs[config][repeat]`` (None where it failed)."""

    n: int
    runs: dict[str, list[Measurement | None]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def find_peers_dir(start: Path) -> Path | None:
    """The shared peer scripts: ``../shared/bench/peers`` next to the checkout."""
    for base in (start, *start.parents):
        candidate = base / "shared" / "bench" / "peers"
        if (candidate / "cuba_brian2.py").exists():
            return candidate
    return None


def thread_key(t: int) -> str:
    """The configuration name of our simulator on ``t`` threads."""
    return f"{t}t"


def run_cuba(
    sizes: list[int],
    seconds: float,
    threads: list[int],
    peers: list[str],
    peers_python: Path | None,
    peers_dir: Path | None,
    mode: str = "float",
    dtype: str = "float32",
    timeout: float = 1800.0,
    repeats: int = 3,
    yardstick: bool = True,
    report=print,
    warm: bool = True,
) -> list[Row]:
    """Measure every size ``repeats`` times; ``report`` receives a line of progress per process.

    ``warm``: first run our configurations once, small and unmeasured, to fill numba's cache.
    """
    configs: list[tuple[str, str]] = []
    for t in threads:
        label = f"snn {mode}/{dtype} {t} thread{'s' if t > 1 else ''}"
        configs.append((thread_key(t), label))
    if yardstick:
        configs.append((YARDSTICK, "yardstick (plain numba loop, float32)"))
    for peer in peers:
        configs.append((peer, peer))
    if warm:
        for key, label in configs:
            if key in PEER_SCRIPTS:
                continue
            report(f"warming numba's cache: {label} ...")
            try:
                n_warm = _WARM_N_PER_THREAD * (int(key[:-1]) if key != YARDSTICK else 1)
                run_json(_command(key, n_warm, _WARM_SECONDS, mode, dtype, peers_python, peers_dir), timeout)
            except BenchError as exc:  # the measured runs will say what is wrong
                report(f"  (warm-up failed: {exc})")
    rows = []
    for n in sizes:
        row = Row(n)
        for key, _ in configs:
            row.runs[key] = [None] * repeats
        for r in range(repeats):
            for key, label in configs:
                report(f"N={n} [{r + 1}/{repeats}]: {label} ...")
                if key in PEER_SCRIPTS and (peers_python is None or peers_dir is None):
                    if r == 0:
                        row.errors.append(
                            f"{key}: peers not set up (bash ../shared/bench/peers/setup.sh .peers-venv)"
                        )
                    continue
                try:
                    row.runs[key][r] = run_json(
                        _command(key, n, seconds, mode, dtype, peers_python, peers_dir), timeout
                    )
                except BenchError as exc:
                    row.errors.append(f"{label} (repeat {r + 1}): {exc}")
        rows.append(row)
    return rows


def _command(key, n, seconds, mode, dtype, peers_python, peers_dir) -> list[str]:
    if key == YARDSTICK:
        return python_module("snn.bench.yardstick", n, seconds)
    if key in PEER_SCRIPTS:
        script, extra = PEER_SCRIPTS[key]
        return [str(peers_python), str(peers_dir / script), str(n), str(seconds), *extra]
    return python_module("snn.bench.cuba_worker", n, seconds, mode, dtype, int(key[:-1]))


def _stat(values: list[float], fmt: str, unit: str = "") -> str:
    """``median (min-max)`` of the values (just the value for one; ``-`` for none)."""
    if not values:
        return "-"
    med = format(statistics.median(values), fmt) + unit
    if len(values) == 1:
        return med
    return f"{med} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def _values(row: Row, key: str, get) -> list[float]:
    return [get(m) for m in row.runs.get(key, []) if m is not None]


def _ratios(row: Row, a: str, b: str) -> list[float]:
    """``wall(a) / wall(b)`` within each repeat where both ran."""
    pairs = zip(row.runs.get(a, []), row.runs.get(b, []))
    return [x.data["wall_s"] / y.data["wall_s"] for x, y in pairs if x is not None and y is not None]


def table(rows: list[Row], seconds: float) -> tuple[list[str], list[list[str]]]:
    """Header and cells: wall s per simulated s, build time and memory, bytes/synapse, ratios.

    Times and ratios are ``median (min-max)`` over the repeats; a ratio is taken within
    each repeat (the same minutes of the machine) before the median.
    """
    present = {k for r in rows for k, ms in r.runs.items() if any(m is not None for m in ms)}
    thread_keys = sorted(
        (k for k in present if k.endswith("t") and k[:-1].isdigit()), key=lambda k: int(k[:-1])
    )
    peer_keys = [p for p in PEER_SCRIPTS if p in present]
    yard = YARDSTICK in present
    header = ["N", "synapses"]
    header += [f"ours {k} s/s" for k in thread_keys] + (["yardstick s/s"] if yard else [])
    header += [f"{p} s/s" for p in peer_keys]
    header += ["ours build s", "ours build MB", "ours peak MB"] + [f"{p} peak MB" for p in peer_keys]
    header += ["ours B/syn"]
    ratio_cols: list[tuple[str, str]] = [(k, p) for p in peer_keys for k in thread_keys]
    ratio_cols += [(k, thread_keys[0]) for k in thread_keys[1:]]
    if yard and thread_keys:
        ratio_cols.append((thread_keys[0], YARDSTICK))
    header += [f"ours {a} / {'ours ' + b if b in thread_keys else b}" for a, b in ratio_cols]
    cells = []
    for r in rows:
        first = thread_keys[0] if thread_keys else None
        some = next((m for ms in r.runs.values() for m in ms if m is not None), None)
        line = [f"{r.n:,}", f"{some.data['syn']:,}" if some else "-"]
        for k in [*thread_keys, *([YARDSTICK] if yard else []), *peer_keys]:
            line.append(_stat(_values(r, k, lambda m: m.data["wall_s"] / seconds), ".3f"))
        line.append(_stat(_values(r, first, lambda m: m.data["build_s"]), ".2f") if first else "-")
        line.append(
            _stat(_values(r, first, lambda m: m.data.get("build_peak_mb", float("nan"))), ".0f")
            if first
            else "-"
        )
        line.append(_stat(_values(r, first, lambda m: m.peak_mb), ".0f") if first else "-")
        line += [_stat(_values(r, p, lambda m: m.peak_mb), ".0f") for p in peer_keys]
        ours = _values(r, first, lambda m: m.data["synapse_bytes"] / max(m.data["syn"], 1)) if first else []
        line.append(_stat(ours[:1], ".1f"))
        line += [_stat(_ratios(r, a, b), ".2f", "x") for a, b in ratio_cols]
        cells.append(line)
    return header, cells


def markdown(header: list[str], cells: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(lines)
