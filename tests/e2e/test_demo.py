"""The README's ``make demo``, end to end: real Airflow standalone (scheduler, triggerer,
DAG processor, API server) on SQLite, sample deliveries dropped into the inbox, marts
published and readable read-only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("embedded_airflow")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_publishes_the_mart_from_dropped_files(tmp_path: Path) -> None:
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
    elapsed = time.monotonic() - started
    print(proc.stdout[-4000:])
    assert proc.returncode == 0, proc.stderr[-4000:]
    print(f"demo took {elapsed:.0f}s")
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
