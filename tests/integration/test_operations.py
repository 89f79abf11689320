"""The calendar DAGs for real (``dag.test()``): retries, the failure e-mail through a real
SMTP server on localhost, and the retention purge on a real ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.landing import ingest
from tests.builders import police_csv, police_rows
from tests.mail import Mailbox

pytestmark = pytest.mark.integration
DAGS = Path(__file__).resolve().parents[2] / "dags"


def _dag(file: str, dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS / file))
    assert not bag.import_errors
    return bag.dags[dag_id]


def test_a_missed_deadline_is_retried_then_mailed(cfg: Settings, airflow_db: Path, smtp_server: Mailbox,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSP_ALERT_EMAIL", "dyzur-danych@krakow.test")
    # March's extracts landed, April's did not: the check on 10 May must fail
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(3))
    ingest(cfg, ["police"])

    dag = _dag("check_monthly_extracts.py", "check_monthly_extracts")
    run = dag.test(logical_date=dt.datetime(2025, 5, 10, 6, tzinfo=dt.UTC))

    assert run.state == "failed"
    ti = run.get_task_instance("expect_last_months_extracts")
    assert ti.state == "failed"
    assert ti.try_number == dag.get_task("expect_last_months_extracts").retries + 1 == 4
    [mail] = smtp_server.messages  # one notice, after the last retry, not one per try
    assert mail["to"] == ["dyzur-danych@krakow.test"]
    assert mail["subject"] == "[KSP] failed: check_monthly_extracts.expect_last_months_extracts"
    assert "city_guard for 2025-04" in mail["body"] and "police for 2025-04" in mail["body"]
    print(f"\nfailure mail after {ti.try_number} tries: {mail['subject']!r}")

    # the deadline met: the same check passes and nothing more is mailed
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-04.csv", police_rows(2, month="04"))
    from tests.builders import city_guard_csv

    city_guard_csv(cfg.inbox_dir / "city_guard" / "sm_wykroczenia_2025-04.csv")
    assert {r.status for r in ingest(cfg, ["police", "city_guard"])} == {"loaded"}
    run = dag.test(logical_date=dt.datetime(2025, 5, 10, 6, 1, tzinfo=dt.UTC))
    assert run.state == "success"
    assert len(smtp_server.messages) == 1


def test_retention_purge_deletes_raw_bytes_once_and_keeps_the_record(cfg: Settings, airflow_db: Path) -> None:
    data = police_rows(40)
    data[4][6] = "1,0"  # one quarantined row, whose raw values hold the free-text note
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", data)
    [loaded] = ingest(cfg, ["police"])
    assert loaded.rows_rejected == 1
    archived = list(cfg.archive_dir.rglob("*.csv"))
    assert len(archived) == 1

    dag = _dag("purge_personal_data.py", "purge_personal_data")
    assert dag.test().state == "success"
    assert archived[0].exists()  # younger than the retention period: untouched

    con = duckdb.connect(str(cfg.ledger_path))
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=cfg.retention_days + 1)
    con.execute("update ops.load_ledger set finished_at = ?", [long_ago])
    con.execute("update ops.quarantine set quarantined_at = ?", [long_ago])
    con.close()
    assert dag.test().state == "success"
    assert not archived[0].exists()
    con = duckdb.connect(str(cfg.ledger_path), read_only=True)
    assert con.execute("select count(*) from ops.load_ledger where purged_at is not null").fetchone()[0] == 1
    assert con.execute("select line_no, rule, raw_values from ops.quarantine").fetchall() == [
        (6, "x_northing_in_krakow", None)]
    landed = con.execute("select count(*) from landing.police").fetchone()[0]
    con.close()
    assert landed == 39  # landed rows (scrubbed at the door) stay

    from ingestion.retention import purge_personal_data

    assert purge_personal_data(cfg) == {"files_deleted": 0, "quarantine_rows_cleared": 0,
                                        "stream_files_deleted": 0}
    # the same bytes delivered again: a duplicate, and the purged copy is not brought back
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", data)
    [again] = ingest(cfg, ["police"])
    assert again.status == "duplicate"
    assert list(cfg.archive_dir.rglob("*.csv")) == []


def test_replay_delivery_dag_reruns_one_refused_delivery(cfg: Settings, airflow_db: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = police_rows(20)
    for r in data[:4]:
        r[6] = "1,0"  # 4 of 20 rows outside Kraków: over the 5 % share and the 3 rows, the file is refused
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", data)
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-04.csv", data)
    assert [r.status for r in ingest(cfg, ["police"])] == ["refused", "refused"]

    monkeypatch.setenv("KSP_MAX_REJECT_SHARE", "0.2")  # the city agrees to a higher share
    dag = _dag("replay_delivery.py", "replay_delivery")
    run = dag.test(run_conf={"source": "police", "file_name": "kmp_zdarzenia_2025-03.csv",
                             "include_quarantined": False})
    assert run.state == "success"
    [ti] = run.get_task_instances()
    assert ti.state == "success"
    con = duckdb.connect(str(cfg.ledger_path), read_only=True)
    statuses = dict(con.execute("select file_name, status from ops.load_ledger").fetchall())
    replayed = con.execute("select file_name, previous_status from ops.replays").fetchall()
    con.close()
    # only the named delivery was re-run; the other stays refused
    assert statuses == {"kmp_zdarzenia_2025-03.csv": "loaded", "kmp_zdarzenia_2025-04.csv": "refused"}
    assert replayed == [("kmp_zdarzenia_2025-03.csv", "refused")]
