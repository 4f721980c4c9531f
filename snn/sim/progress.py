"""A rich progress bar for long runs: shown only once a run is expected to last over ~1 s."""

from __future__ import annotations

import sys
import time


class RunProgress:
    """Progress of ``total`` timesteps. ``enabled=None``: on when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool | None) -> None:
        self.total = total
        self.enabled = sys.stderr.isatty() if enabled is None else bool(enabled)
        self.t0 = time.perf_counter()
        self._bar = None
        self._task = None

    def update(self, done: int) -> None:
        """Report ``done`` steps of ``total``; starts the bar when the run looks long."""
        if not self.enabled or self.total <= 0:
            return
        if self._bar is None:
            elapsed = time.perf_counter() - self.t0
            if done <= 0 or elapsed * self.total / done < 1.0:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task("run", total=self.total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        """Remove the bar (if shown)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
