"""The sweep's tidy table: one row per run, written as the rows arrive, read back to resume.

CSV is written one line per finished run (flushed, so an interrupted sweep keeps every
finished row) and rewritten in run order when the sweep ends. A ``.parquet`` output (needs
``pyarrow``) keeps a CSV journal next to it (``OUT.parquet.partial.csv``) while running and
writes the Parquet file at the end. Floats are written with ``repr`` (they read back
exactly), so tables from different schedulers compare equal byte for byte.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import NetworkError


def cell(value: object) -> str:
    """A value as the table writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def parse_cell(text: str) -> object:
    """A table cell back as an int, a float or a string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class TableWriter:
    """Appends rows to ``path`` (CSV, or a CSV journal of a Parquet file) and keeps them for the end."""

    def __init__(self, path: Path | None, key_columns: Sequence[str], done: list[dict]) -> None:
        self.path = path
        self.key_columns = list(key_columns)
        self.rows: list[dict] = list(done)
        self.columns: list[str] | None = list(done[0]) if done else None
        self._pending: list[dict] = []
        self._file = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.journal = journal_path(path)
            if not done:  # nothing finished to keep: start the file afresh
                self.journal.unlink(missing_ok=True)

    def add(self, row: dict) -> None:
        """Record one finished run (written at once, once the columns are known)."""
        self.rows.append(row)
        if self.columns is None:
            if row.get("error"):
                self._pending.append(row)  # the columns come from the first successful run
                return
            self.columns = _columns(self.key_columns, row)
        self._write([*self._pending, row])
        self._pending = []

    def _write(self, rows: list[dict]) -> None:
        if self.path is None:
            return
        if self._file is None:
            fresh = not self.journal.exists() or self.journal.stat().st_size == 0
            self._file = open(self.journal, "a", newline="")  # noqa: SIM115 - closed in close()
            if fresh:
                csv.writer(self._file).writerow(self.columns)
        w = csv.writer(self._file)
        for row in rows:
            w.writerow([cell(row.get(c)) for c in self.columns])
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> list[dict]:
        """Write the whole table in run order; returns the rows in that order."""
        if self.columns is None:
            self.columns = _columns(self.key_columns, self.rows[0] if self.rows else {})
        if self._pending:
            self._write(self._pending)
            self._pending = []
        if self._file is not None:
            self._file.close()
            self._file = None
        rows = sorted(self.rows, key=lambda r: int(r["run"]))
        if self.path is None:
            return rows
        columns = self.columns + sorted({k for r in rows for k in r} - set(self.columns))
        if self.path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]), self.path)
            self.journal.unlink(missing_ok=True)
        else:
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(columns)
                for r in rows:
                    w.writerow([cell(r.get(c)) for c in columns])
            tmp.replace(self.path)
        return rows


def _columns(key_columns: list[str], row: dict) -> list[str]:
    rest = [c for c in row if c not in key_columns and c != "error"]
    return [*key_columns, *rest, "error"]


def journal_path(path: Path) -> Path:
    """Where rows go while the sweep runs: the CSV itself, or a journal beside a Parquet file."""
    if path.suffix == ".parquet":
        return path.with_name(path.name + ".partial.csv")
    return path


def check_output(path: Path | None) -> None:
    """Refuse an output this machine cannot write before anything runs."""
    if path is None:
        return
    if path.suffix not in (".csv", ".parquet"):
        raise NetworkError(f"sweep output {path}: use a .csv or .parquet file name")
    if path.suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ModuleNotFoundError:
            raise NetworkError(
                f"sweep output {path}: Parquet needs pyarrow (pip install pyarrow), or write a .csv"
            ) from None


def read_done(path: Path | None, planned: dict[int, dict], key_columns: Sequence[str]) -> list[dict]:
    """Finished rows (no error) of an earlier, interrupted run of the same sweep at ``path``.

    A row must match the planned run of the same ``run`` index in every key column;
    otherwise the file holds another sweep and is refused (choose another output).
    """
    if path is None:
        return []
    source = journal_path(path)
    if not source.exists() and path.suffix == ".parquet" and path.exists():
        import pyarrow.parquet as pq

        raw = [{k: cell(v) for k, v in r.items()} for r in pq.read_table(path).to_pylist()]
    elif source.exists() and source.stat().st_size:
        with open(source, newline="") as f:
            raw = list(csv.DictReader(f))
    else:
        return []
    done: dict[int, dict] = {}
    for r in raw:
        if r.get("error") or "run" not in r:
            continue  # failed runs are tried again
        index = int(r["run"])
        want = planned.get(index)
        if want is None or any(cell(want.get(c)) != (r.get(c) or "") for c in key_columns if c != "run"):
            raise NetworkError(
                f"{path} holds the rows of another sweep (run {index} differs); "
                "write to another file or delete it to start afresh"
            )
        done[index] = {k: (parse_cell(v) if k not in ("error",) else v) for k, v in r.items()}
    return [done[i] for i in sorted(done)]
