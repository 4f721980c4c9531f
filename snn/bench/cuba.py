"""``snn bench cuba``: the CUBA network with our simulator and its peers, side by side.

Every configuration runs in a fresh process (so peak memory is its own), one at a time.
Peers come from their own virtual environment (Brian2 needs numpy < 2), set up with
``bash ../shared/bench/peers/setup.sh .peers-venv``. Speed is reported as ratios of run
times measured in the same session, because the machines are shared and noisy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .processes import BenchError, Measurement, python_module, run_json

PEER_SCRIPTS = {
    "brian2": ("cuba_brian2.py", ["cpp_standalone"]),
    "nest": ("cuba_nest.py", ["1"]),
}


@dataclass
class Row:
    """All measurements at one network size."""

    n: int
    ours: dict[str, Measurement] = field(default_factory=dict)
    peers: dict[str, Measurement] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def find_peers_dir(start: Path) -> Path | None:
    """The shared peer scripts: ``../shared/bench/peers`` next to the checkout."""
    for base in (start, *start.parents):
        candidate = base / "shared" / "bench" / "peers"
        if (candidate / "cuba_brian2.py").exists():
            return candidate
    return None


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
    report=print,
) -> list[Row]:
    """Measure every size; ``report`` receives a line of progress per process."""
    rows = []
    for n in sizes:
        row = Row(n)
        for t in threads:
            label = f"snn {mode}/{dtype} {t} thread{'s' if t > 1 else ''}"
            report(f"N={n}: {label} ...")
            try:
                cmd = python_module("snn.bench.cuba_worker", n, seconds, mode, dtype, t)
                row.ours[f"{t}t"] = run_json(cmd, timeout)
            except BenchError as exc:
                row.errors.append(f"{label}: {exc}")
        for peer in peers:
            script, extra = PEER_SCRIPTS[peer]
            report(f"N={n}: {peer} ...")
            if peers_python is None or peers_dir is None:
                row.errors.append(
                    f"{peer}: peers not set up (bash ../shared/bench/peers/setup.sh .peers-venv)"
                )
                continue
            try:
                cmd = [str(peers_python), str(peers_dir / script), str(n), str(seconds), *extra]
                row.peers[peer] = run_json(cmd, timeout)
            except BenchError as exc:
                row.errors.append(f"{peer}: {exc}")
        rows.append(row)
    return rows


def table(rows: list[Row], seconds: float) -> tuple[list[str], list[list[str]]]:
    """Header and cells: wall s per simulated s, events/s, peak MB, bytes/synapse, ratios."""
    thread_keys = sorted({k for r in rows for k in r.ours}, key=lambda k: int(k[:-1]))
    peer_keys = [p for p in PEER_SCRIPTS if any(p in r.peers for r in rows)]
    header = ["N", "synapses"]
    header += [f"ours {k} s/s" for k in thread_keys] + [f"{p} s/s" for p in peer_keys]
    header += ["ours events/s", "ours B/syn", "ours peak MB"] + [f"{p} peak MB" for p in peer_keys]
    header += [f"ours {k} / {p}" for p in peer_keys for k in thread_keys]
    cells = []
    for r in rows:
        first = next(iter(r.ours.values()), None)
        line = [f"{r.n:,}", f"{first.data['syn']:,}" if first else "-"]
        line += [_sps(r.ours.get(k), seconds) for k in thread_keys]
        line += [_sps(r.peers.get(p), seconds) for p in peer_keys]
        if first:
            line += [
                f"{first.data['events'] / first.data['wall_s']:.3g}",
                f"{first.data['synapse_bytes'] / max(first.data['syn'], 1):.1f}",
                f"{first.peak_mb:.0f}",
            ]
        else:
            line += ["-", "-", "-"]
        line += [f"{r.peers[p].peak_mb:.0f}" if p in r.peers else "-" for p in peer_keys]
        for p in peer_keys:
            for k in thread_keys:
                if p in r.peers and k in r.ours:
                    line.append(f"{r.ours[k].data['wall_s'] / r.peers[p].data['wall_s']:.2f}x")
                else:
                    line.append("-")
        cells.append(line)
    return header, cells


def _sps(m: Measurement | None, seconds: float) -> str:
    return f"{m.data['wall_s'] / seconds:.3f}" if m else "-"


def markdown(header: list[str], cells: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(lines)
