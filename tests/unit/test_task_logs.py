"""Task logs: no Great Expectations registry noise, and each delivery's line exactly once.

A real validation + landing run (real DuckDB ledger, real GX file context), logged the
way the ``ingest_<source>`` task logs it: ``ingest`` logs no result line of its own,
the task presents each through :func:`ingestion.logs.log_results`.
"""

from __future__ import annotations

import logging

import pytest

from ingestion.config import Settings
from tests.builders import police_csv, police_rows

pytestmark = pytest.mark.unit

NOISE = ("Skipping registering function", "Multiple declarations of metric")


def test_gx_loggers_say_warnings_only() -> None:
    """The registries log at import time, so the level is set before GX is first imported."""
    import ingestion.validation  # noqa: F401  (sets the level on import)

    for name in ("great_expectations", "great_expectations._docs_decorators",
                 "great_expectations.expectations.registry", "great_expectations.data_context.types.base"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert logging.getLogger("great_expectations").isEnabledFor(logging.WARNING)


def test_a_landing_run_logs_each_result_once_and_no_gx_noise(cfg: Settings,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    from ingestion.landing import ingest
    from ingestion.logs import log_results

    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(3))
    rows = police_rows(30, month="04")
    rows[2][6] = "1,00"  # outside Kraków: quarantined
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-04.csv", rows)
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-05.csv", [])  # a header only: refused
    task_log = logging.getLogger("orchestration.dag_builders")

    caplog.set_level(logging.DEBUG)
    results = ingest(cfg, ["police"])
    log_results(results, task_log)  # what the task does with them

    assert sorted(r.status for r in results) == ["loaded", "loaded", "refused"]
    gx = [f"{r.name}: {r.getMessage()[:100]}" for r in caplog.records if r.name.startswith("great_expectations")]
    assert gx == []
    assert not any(n in r.getMessage() for r in caplog.records for n in NOISE)
    for result in results:
        said = [r for r in caplog.records if result.line() in r.getMessage()]
        assert [(r.name, r.levelno) for r in said] == [
            ("orchestration.dag_builders", logging.ERROR if result.status == "refused" else logging.INFO)
        ], result.line()
