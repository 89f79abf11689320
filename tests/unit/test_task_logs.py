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


def test_progress_says_what_is_done_the_rate_and_what_is_left(caplog: pytest.LogCaptureFixture) -> None:
    from ingestion.logs import Progress

    now = [0.0]
    progress = Progress(logging.getLogger("ksp.progress"), every_s=10, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="ksp.progress"):
        progress.start("interventions", 100)
        now[0] = 5.0
        progress.advance(files=10, rows=1000)  # before the interval: silent
        now[0] = 20.0
        progress.advance(files=30, rows=3000)
        now[0] = 25.0
        progress.advance(files=60, rows=6000)  # the last file: only the final line says so
        progress.finish()
    assert [r.getMessage() for r in caplog.records] == [
        "ingest interventions: 40/100 files read, 4,000 rows in 20 s (200 rows/s, 2.0 files/s); "
        "about 30 s left for 60 files",
        "ingest interventions: 100/100 files read, 10,000 rows in 25 s (400 rows/s, 4.0 files/s) done"]


def test_ksp_ingest_prints_progress_on_stderr(cfg) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.builders import police_csv, police_rows

    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(3))
    ksp = str(Path(sys.executable).parent / "ksp")
    done = subprocess.run([ksp, "ingest", "--source", "police"], capture_output=True, text=True, check=True,
                          env={**os.environ, "KSP_DATA_DIR": str(cfg.data_dir)})
    assert "loaded 3 of 3 rows" in done.stdout
    assert "ingest police: 1/1 files read, 3 rows" in done.stderr, done.stderr


def test_a_refusal_quoting_personal_values_reaches_no_log_xcom_or_reason_file_unscrubbed(
        cfg: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """A file exported without its header line is refused naming its first record as the
    "unexpected columns": the reason must pass the scrubber on its way to the task log,
    the XCom (``as_dict``), the reason file and the ledger, as the simulator's
    ``missing_header`` fault plants it in the demo."""
    import json

    from ingestion import ledger
    from ingestion.landing import ingest
    from ingestion.logs import log_results

    rows = police_rows(5)
    rows[0][4] = "interwencja: zgłaszający Piotr Zieliński, tel. 698 765 432, KR 4F123"
    path = police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", rows)
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join(lines[1:]))  # without the header line
    caplog.set_level(logging.INFO)

    [result] = ingest(cfg, ["police"])
    log_results([result], logging.getLogger("orchestration.dag_builders"))

    assert result.status == "refused" and "unexpected column(s)" in result.message
    con = ledger.open_for_reading(cfg)
    [(stored,)] = con.execute("select message from ops.load_ledger").fetchall()
    con.close()
    [reason] = list((cfg.refused_dir / "police").glob("*.reason.txt"))
    for where, text in (("task log", caplog.text), ("xcom", json.dumps(result.as_dict(), ensure_ascii=False)),
                        ("reason file", reason.read_text(encoding="utf-8")), ("ledger", stored)):
        assert "interwencja: zgłaszający [osoba], tel. [telefon], [nr rej.]" in text, where
        for value in ("Zieliński", "698 765 432", "KR 4F123"):
            assert value not in text, (where, value)
