"""The one place a delivery's outcome is written to a task log.

``ingestion.landing.ingest`` and ``replay`` return their :class:`LoadResult` s and log
none of them; whoever runs them presents each result once: ``ksp ingest`` prints the
lines, the ``ingest_<source>`` and ``replay_delivery`` tasks call :func:`log_results`
(a refusal as an error, so that the Airflow UI marks it; everything else as info).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestion.landing import LoadResult


def log_results(results: Iterable[LoadResult], log: logging.Logger) -> None:
    """Each result's line, once."""
    for r in results:
        log.log(logging.ERROR if r.status == "refused" else logging.INFO, "%s", r.line())


class Progress:
    """Progress of a long ingest, as a log line at most every ``every_s`` seconds and at
    the end of each source: files and rows done of those waiting, the rate, and an
    estimate of what is left. The demo ingests thousands of small files and a national
    volume takes minutes: silence there looks like a hang.

    The ``ksp`` logger's lines reach the task log in Airflow and stderr under
    ``ksp ingest``; the estimate is by files, the unit every source has."""

    def __init__(self, log: logging.Logger, *, every_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log, self.every_s, self.clock = log, every_s, clock
        self.source, self.total, self.files, self.rows = "", 0, 0, 0
        self.started = self.last = clock()

    def start(self, source: str, files: int) -> None:
        self.source, self.total, self.files, self.rows = source, files, 0, 0
        self.started = self.last = self.clock()

    def advance(self, files: int = 0, rows: int = 0) -> None:
        self.files += files
        self.rows += rows
        now = self.clock()
        if now - self.last >= self.every_s and self.files < self.total:
            self.last = now
            self.log.info("%s", self.line(now))

    def finish(self) -> None:
        if self.total:
            self.log.info("%s", self.line(self.clock(), done=True))

    def line(self, now: float, *, done: bool = False) -> str:
        took = max(now - self.started, 1e-9)
        head = (f"ingest {self.source}: {self.files}/{self.total} files read, {self.rows:,} rows in {took:.0f} s "
                f"({self.rows / took:,.0f} rows/s, {self.files / took:.1f} files/s)")
        if done or not self.files:
            return head + (" done" if done else "")
        left = (self.total - self.files) * took / self.files
        return head + f"; about {left:.0f} s left for {self.total - self.files} files"
