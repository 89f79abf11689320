"""The README's ``make demo``, end to end: real Airflow standalone (scheduler, triggerer,
DAG processor, API server) on SQLite, sample deliveries dropped into the inbox, marts
published and readable read-only."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("embedded_airflow")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class DemoRun:
    """One ``ksp demo --exit-when-done`` on its own data root: every test of this module
    reads the same run, so the suite pays for the demo once."""

    data: Path
    proc: subprocess.CompletedProcess[str]
    env: dict[str, str]
    seconds: float


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    tmp_path = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "KSP_DATA_DIR": str(tmp_path / "data"),
        "KSP_AIRFLOW_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "KSP_INBOX_POLL_SECONDS": "2",
    })
    ksp = Path(sys.executable).parent / "ksp"
    started = time.monotonic()
    proc = subprocess.run([str(ksp), "demo", "--exit-when-done", "--timeout", "2400"], env=env,
                          capture_output=True, text=True, timeout=2500, check=False)
    return DemoRun(tmp_path / "data", proc, env, time.monotonic() - started)


def test_demo_publishes_the_mart_from_dropped_files(demo_run: DemoRun) -> None:
    proc, tmp_path = demo_run.proc, demo_run.data.parent
    print(proc.stdout[-4000:])
    assert proc.returncode == 0, proc.stderr[-4000:]
    print(f"demo took {demo_run.seconds:.0f}s")
    out = proc.stdout
    assert "marts published" in out and "Airflow UI:   http://localhost:" in out
    assert "announced through the REST API reached the published marts" in proc.stdout
    # the two reports rendered through their DAGs and mailed, with the SOS duty summary, to the
    # demo's mail catcher, which keeps each message as an .eml file and lists them
    import email
    import email.policy

    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in sorted((tmp_path / "data" / "mail").glob("*.eml"))]
    subjects = [m["Subject"] for m in mails]
    assert any(s.startswith("[KSP] Monitoring wizyjny – raport miesięczny, czerwiec 2026") for s in subjects), subjects
    assert any(s.startswith("[KSP] Badanie poczucia bezpieczeństwa – fala 2026W") for s in subjects), subjects
    assert any(s.startswith("[KSP] SOS: zagrożenie zdrowia lub życia") for s in subjects), subjects
    for m in mails:
        [pdf] = list(m.iter_attachments())
        assert pdf.get_filename() == "raport.pdf" and pdf.get_content().startswith(b"%PDF")
    assert "Mail received by the demo's catcher" in out and "fala 2026W" in out
    assert (tmp_path / "data" / "reports" / "monthly" / "2026-06" / "raport.pdf").exists()
    # the simulator's faults for the sources ingested so far, with their documented outcomes
    faults = json.loads((tmp_path / "data" / "simulated" / "faults.json").read_text())["faults"]
    police = {f["kind"]: f for f in faults if f["source"] == "police"}
    assert f"{Path(police['wrong_encoding']['file']).name} (line 2): refused, rule 'encoding'" in out
    assert f"{Path(police['duplicate_rows']['file']).name}: 3 x duplicate_row" in out
    assert f"{Path(police['outside_krakow']['file']).name}: 2 x x_northing_in_krakow" in out

    published = tmp_path / "data" / "published" / "ksp.duckdb"
    con = duckdb.connect(str(published), read_only=True)
    n, cams = con.execute("select sum(incident_count), count(distinct camera_point_id) "
                          "from marts.mart_camera_incidents_monthly").fetchone()
    [(sos_demo,)] = con.execute("select count(*) from marts.fct_sos_alert where event_id like 'SOS-DEMO-%' "
                                "and is_threat_to_health_life").fetchall()
    assert sos_demo == 1  # the SOS press announced through the REST API
    con.close()
    truth = json.loads((tmp_path / "data" / "simulated" / "truth.json").read_text())
    wbizk = [c for c in truth["cameras"] if c["operator"] == "wbizk"]
    assert n > 1000 and cams == len(wbizk)
    # the late batch was ingested: the correction is current, the late month is there
    ledger = duckdb.connect(str(tmp_path / "data" / "ops" / "ledger.duckdb"), read_only=True)
    current = {r[0] for r in ledger.execute("select file_name from ops.current_deliveries").fetchall()}
    ledger.close()
    assert Path(police["corrected_redelivery"]["file"]).name in current
    assert Path(police["out_of_order_month"]["file"]).name in current
    assert Path(police["corrected_redelivery"]["supersedes"]).name not in current
    # Airflow was stopped: nothing listens any more, the pid file is gone
    assert not (tmp_path / "data" / "airflow" / "standalone.pid").exists()


def test_no_planted_personal_value_survives_in_any_store_of_the_demo_run(demo_run: DemoRun) -> None:
    """Issue 15's "Done when": every personal value the simulator planted (its own record,
    ``personal.json``) is looked for in every store of the run: the published file and its
    versions, the warehouse but its ``restricted`` schema, the ledger (``ops.*``, with the
    quarantine) and landing, the reports (PDF text) and the mail, the research exports,
    Great Expectations' results and Data Docs, the dbt artefacts, Airflow's task logs and
    its metadata database (XComs). Only the delivered bytes (inbox, claims, archive,
    refused files) keep them, for the retention period; operators' personal numbers appear
    only as pseudonyms."""
    from simulator import personal
    from tests.privacy_scan import Scanner, scan_tree

    assert demo_run.proc.returncode == 0, demo_run.proc.stderr[-4000:]
    data = demo_run.data
    ksp = str(Path(sys.executable).parent / "ksp")
    # the stores a researcher's export and the rendered Data Docs and dbt docs add
    subprocess.run([ksp, "export", "research", "--out", str(data / "exports" / "research")], env=demo_run.env,
                   check=True, capture_output=True)
    subprocess.run([ksp, "docs"], env=demo_run.env, check=True, capture_output=True)
    planted = personal.load(data / "simulated")
    assert all(planted[k] for k in ("name", "phone", "pesel", "email", "plate", "operator")), planted
    scanner = Scanner(planted)

    # the planted values did reach the platform: the delivered bytes it keeps hold them
    raw = scan_tree(scanner, data / "archive", skip=())
    assert {leak.kind for leak in raw.leaks} >= {"name", "phone", "plate", "operator", "pesel", "email"}

    started = time.monotonic()
    result = scan_tree(scanner, data, warehouse=data / "warehouse" / "ksp.duckdb")
    print(f"privacy scan: {len(result.files)} files in {time.monotonic() - started:.0f}s, {dict(result.read)}")
    rel = {str(Path(f).relative_to(data)) for f in result.files}
    # every store was read (a scan that reads nothing finds nothing)
    for store in ("published/ksp.duckdb", "warehouse/ksp.duckdb", "ops/ledger.duckdb", "airflow/airflow.db",
                  "reports/monthly/2026-06/raport.pdf", "reports/survey/2026W/raport.pdf",
                  "exports/research/ksp.gpkg", "exports/research/fct_intervention.parquet"):
        assert store in rel, store
    for prefix in ("airflow/logs/dag_id=ingest_interventions/", "airflow/logs/dag_id=build_warehouse/",
                   "gx/", "landing/interventions/", "mail/", "published/versions/", "dbt/target/",
                   "refused/interventions/"):
        assert any(f.startswith(prefix) for f in rel), prefix
    assert result.read["sqlite table"] and result.read["duckdb column"] > 100 and result.read["pdf"] >= 3
    # the record the missing_header fault planted went down the refusal path: its reason
    # (scrubbed) is in an XCom and a task log of ingest_interventions, stores the scan read
    faults = json.loads((data / "simulated" / "faults.json").read_text())["faults"]
    [headless] = [Path(f["file"]).name for f in faults if f["kind"] == "missing_header"]
    meta = sqlite3.connect(f"file:{data / 'airflow' / 'airflow.db'}?mode=ro", uri=True)
    try:
        xcoms = [v.decode() if isinstance(v, bytes) else v for (v,) in meta.execute(
            "select value from xcom where dag_id = 'ingest_interventions'").fetchall()]
    finally:
        meta.close()
    assert any(headless in v and "unexpected column(s)" in v for v in xcoms), headless
    logs = (data / "airflow" / "logs" / "dag_id=ingest_interventions").rglob("*.log")
    assert any(f"{headless} (line 1" in p.read_text(encoding="utf-8", errors="replace") for p in logs), headless

    leaks = sorted({(str(Path(leak.path).relative_to(data)), leak.where, leak.kind, leak.value)
                    for leak in result.leaks})
    assert leaks == [], "\n".join(f"{p} [{w}]: {k} {v!r}" for p, w, k, v in leaks[:50])

    # operators' personal numbers: every intervention landed keeps its operator, as a pseudonym
    con = duckdb.connect(str(data / "ops" / "ledger.duckdb"), read_only=True)
    try:
        operators, rows, not_pseudonyms = con.execute(
            "select count(distinct operator_pseudonym), count(*), "
            "count(*) filter (where not regexp_full_match(operator_pseudonym, 'op-[0-9a-f]{16}')) "
            "from landing.interventions").fetchone()
    finally:
        con.close()
    assert rows > 1000 and not_pseudonyms == 0
    assert operators == len(planted["operator"])  # one pseudonym per operator the simulator planted
