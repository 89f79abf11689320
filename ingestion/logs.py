"""The one place a delivery's outcome is written to a task log.

``ingestion.landing.ingest`` and ``replay`` return their :class:`LoadResult` s and log
none of them; whoever runs them presents each result once: ``ksp ingest`` prints the
lines, the ``ingest_<source>`` and ``replay_delivery`` tasks call :func:`log_results`
(a refusal as an error, so that the Airflow UI marks it; everything else as info).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestion.landing import LoadResult


def log_results(results: Iterable[LoadResult], log: logging.Logger) -> None:
    """Each result's line, once."""
    for r in results:
        log.log(logging.ERROR if r.status == "refused" else logging.INFO, "%s", r.line())
