"""Event-driven arrival end to end, on a real Airflow (``airflow standalone``: scheduler,
triggerer, DAG processor, API server) with a temporary home and its metadata on this
machine's PostgreSQL, as in production: creating a backfill while the scheduler writes
races SQLite's single writer (apache/airflow#66726; it failed CI here twice), which the
embedded default's demo test covers on its own.

A file dropped into the inbox, an asset event posted through the REST API and an SOS
event published on Redis each lead to updated published marts; the seconds from
arrival to published mart are printed. Then a backfill of the monthly report over
past months, twice, gives the same reports. Redis is a service of this machine and of
CI: when it is unreachable this test fails, it does not skip.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from tests.builders import police_csv
from tests.integration.test_end_to_end import CAMERAS, EXPECTED
from tests.integration.test_end_to_end import _deliver as deliver_hand_fixture
from tests.mail import Mailbox

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("embedded_airflow")]
REDIS_URL = os.environ.get("KSP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             postgres_metadata_db: str) -> Iterator[tuple[object, Mailbox, dict[str, str]]]:
    """Airflow standalone on a fresh home, Redis events on, mail to a real local SMTP server."""
    import redis
    from aiosmtpd.controller import Controller

    redis.Redis.from_url(REDIS_URL).ping()  # no Redis here is a failure, not a skip
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line
    mail = Mailbox()
    smtp = Controller(mail, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    for key in [k for k in os.environ if k.startswith("AIRFLOW")]:
        monkeypatch.delenv(key)
    env = {
        "KSP_DATA_DIR": str(tmp_path / "data"),
        "KSP_AIRFLOW_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "KSP_INBOX_POLL_SECONDS": "1",
        "KSP_REDIS_EVENTS": "1",
        "AIRFLOW_CONN_KSP_REDIS": REDIS_URL,
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10, "retry_limit": 1}}),
        "KSP_REPORT_EMAIL": "dyzurny@krakow.test",
        "KSP_CALENDAR_PAUSED": "1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_metadata_db,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from ingestion.config import settings
    from simulator import demo

    cfg = settings()
    proc, airflow_env = demo.start_airflow(cfg, timeout_s=600)
    try:
        yield cfg, mail, airflow_env
    finally:
        demo.stop(cfg)
        smtp.stop()
        assert proc.wait(timeout=60) is not None


def _wait(what: str, check: Callable[[], object], timeout: float = 900.0) -> tuple[object, float]:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            value = check()
        except (duckdb.Error, OSError):
            value = None
        if value:
            return value, time.monotonic() - started
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _subscribers(redis_url: str, channel: str) -> int:
    """Subscribers to a Redis channel: the triggerer's watcher, once its trigger has run."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))
    finally:
        client.close()


def _published(cfg, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(cfg.published_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _mart(cfg) -> dict:
    return {(pid, str(m), p): (n, d) for pid, m, p, n, d in _published(
        cfg, "select camera_point_id, month_start_date, period, incident_count, days_in_period "
             "from marts.mart_camera_incidents_monthly")}


def _metadata(env: dict[str, str], sql: str) -> list[tuple] | None:
    """Rows from Airflow's metadata database (None while it cannot be read)."""
    from simulator.demo import metadata_rows

    return metadata_rows(env, sql)


def _last_build_nodes(cfg) -> dict[str, str]:
    """What dbt did with each model in the last published build."""
    con = duckdb.connect(str(cfg.ledger_path), read_only=True)
    try:
        return dict(con.execute(
            "select n.name, n.status from ops.build_nodes n join ops.builds b using (build_id) "
            "where n.resource_type = 'model' and b.build_id = (select build_id from ops.builds "
            "where status = 'success' order by published_at desc limit 1)").fetchall())
    finally:
        con.close()


def _published_builds(cfg) -> int:
    con = duckdb.connect(str(cfg.ledger_path), read_only=True)
    try:
        return con.execute("select count(*) from ops.builds where status = 'success'").fetchone()[0]
    finally:
        con.close()


def test_file_rest_and_redis_each_reach_the_published_marts(platform, tmp_path: Path) -> None:
    from ingestion import announce
    from simulator import demo

    cfg, mail, env = platform
    timings: dict[str, float] = {}

    # 1. files dropped into the inbox: the triggerer's watcher claims them
    t0 = time.monotonic()
    deliver_hand_fixture(cfg)
    _wait("the hand-computed mart", lambda: cfg.published_path.exists() and _mart(cfg) == EXPECTED)
    timings["file dropped in inbox → published mart"] = time.monotonic() - t0
    print(f"\nfile dropped in inbox → published mart: {timings['file dropped in inbox → published mart']:.0f} s")

    # 2. an asset event through the REST API naming a file outside the inbox
    e, n = CAMERAS["WBZK-0001"][:2]
    export = police_csv(cfg.data_dir / "exports" / "kmp_zdarzenia_2025-05.csv", [[
        "KMP/2025/05/00001", "12.05.2025", "12:00", "art. 278 § 1 kk", "", "ul. Testowa 1",
        f"{n + 40:.2f}".replace(".", ","), f"{e:.2f}".replace(".", ",")]])
    builds_before = _published_builds(cfg)
    t0 = time.monotonic()
    token = announce.rest_token(demo.api_url(), demo.USER, demo._password(cfg))
    event = announce.announce_rest(demo.api_url(), token, "police", {"path": str(export)})
    assert event["name"] == "inbox_police" and event["extra"]["path"] == str(export)
    _wait("May's incident in the published mart",
          lambda: _mart(cfg).get(("WBZK-0001", "2025-05-01", "after_install")) == (1, 31))
    timings["REST asset event → published mart"] = time.monotonic() - t0
    assert export.exists()  # the sender's file is copied, not taken
    # only what depends on police was rebuilt: the survey and SOS models were not selected
    # the mart is swapped in a moment before the ledger records the build as a success:
    # wait for that record, or the previous (full) build's nodes are read
    built, _ = _wait("the last build's node results",
                     lambda: _published_builds(cfg) > builds_before and _last_build_nodes(cfg), timeout=60)
    assert built["stg_police__incidents"] == "success"
    assert built["mart_camera_incidents_monthly"] == "success"
    assert "stg_survey__responses" not in built and "fct_sos_alert" not in built

    # 3. one SOS press published on Redis, classified as a threat to health or life
    sos = {"event_id": "SOS-E2E-0001", "point_id": "SOS-07", "pressed_at": "2025-05-12T21:14:05+02:00",
           "call_duration_s": 84, "classification": "confirmed_health_life", "camera_point": "WBZK-0001",
           "operator_note": "mężczyzna nieprzytomny, wezwano pogotowie"}
    _wait("the triggerer's subscription to the SOS channel",
          lambda: _subscribers(REDIS_URL, announce.redis_channel("sos_alerts")), timeout=180)
    t0 = time.monotonic()
    assert announce.announce_redis(REDIS_URL, "sos_alerts", sos) >= 1, "the triggerer is not subscribed"
    _wait("the SOS event in the published marts", lambda: _published(
        cfg, "select classification, is_threat_to_health_life from marts.fct_sos_alert where event_id = ?",
        ["SOS-E2E-0001"]) == [("confirmed_health_life", True)])
    timings["Redis message → published mart"] = time.monotonic() - t0
    [duty], _ = _wait("the duty officer's mail",
                      lambda: [m for m in mail.messages if m["subject"].startswith("[KSP] SOS")])
    timings["Redis message → duty mail"] = time.monotonic() - t0
    assert duty["to"] == ["dyzurny@krakow.test"] and "SOS-07" in duty["subject"]
    assert "SOS-E2E-0001" in duty["body"] and "nieprzytomny" not in duty["body"]  # no free text leaves staging
    assert list((cfg.reports_dir / "duty").glob("*/raport.html")), "no duty summary kept"
    assert "raport.html" in (cfg.reports_dir / "duty" / "index.html").read_text(encoding="utf-8")

    # 4. backfill the monthly report over past months, twice: the same reports
    airflow = str(Path(sys.executable).parent / "airflow")

    subprocess.run([airflow, "dags", "unpause", "report_security_monthly"], env=env, check=True,
                   capture_output=True)
    months = ("2025-02", "2025-03", "2025-04")

    def backfill(reprocess: str) -> dict[str, str]:
        cmd = [airflow, "backfill", "create", "--dag-id", "report_security_monthly", "--from-date", "2025-03-01",
               "--to-date", "2025-05-31", "--reprocess-behavior", reprocess]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr[-3000:]
        _wait("the backfill to complete", lambda: _metadata(
            env, "select count(*) from backfill where dag_id = 'report_security_monthly' and completed_at is null"
        ) == [(0,)])
        states = _metadata(env, "select state from dag_run where dag_id = 'report_security_monthly' "
                                "and run_type = 'backfill'")
        assert [s for (s,) in states] == ["success"] * 3
        # meta.json names the run that wrote the report; everything else must be the same bytes
        return {p.parent.name + "/" + p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for m in months for p in sorted((cfg.reports_dir / "monthly" / m).glob("*")) if p.name != "meta.json"}

    t0 = time.monotonic()
    first = backfill("none")
    timings["backfill of 3 months"] = time.monotonic() - t0
    assert {k.split("/")[0] for k in first} == set(months)
    april = (cfg.reports_dir / "monthly" / "2025-04" / "raport.html").read_text(encoding="utf-8")
    # the hand-computed April: one offence within 150 m of WBZK-0001, after its installation
    near = re.search(r"do 150 m od kamer</div><div class=\"value\">([^<]*)</div>", april)
    assert near and near.group(1) == "1", near
    assert backfill("completed") == first
    # the backfilled months, twice each (unpausing also runs the calendar's latest month, mailed too)
    backfilled = {f"[KSP] Monitoring wizyjny – raport miesięczny, {m} 2025" for m in ("luty", "marzec", "kwiecień")}
    monthly_mails = [m for m in mail.messages if m["subject"] in backfilled]
    assert len(monthly_mails) == 6, [m["subject"] for m in mail.messages]

    print("\nArrival to published mart on embedded Airflow (scheduler, triggerer, DAG processor):")
    for what, seconds in timings.items():
        print(f"  {what:<40} {seconds:6.1f} s")
