"""docker-compose.yml's production topology, run natively (no container engine here):
separate ``airflow api-server``, ``scheduler``, ``dag-processor``, ``triggerer`` and two
``airflow celery worker`` processes (the general queue, the warehouse writers' queue),
CeleryExecutor on Redis, metadata on PostgreSQL, the FAB auth manager, one shared JWT
secret, and mail through an SMTP relay on localhost. Every setting comes from the compose
file as ``docker-compose config`` resolves it with an env file
(:mod:`orchestration.topology`); none is copied here.

A delivery dropped into the inbox and an SOS event published on the Redis channel both
reach the published marts; the seconds from each to its published mart are printed.
PostgreSQL and Redis are services of this machine and of CI: missing, this fails.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.e2e.test_events import _mart, _published, _subscribers
from tests.integration.test_end_to_end import EXPECTED
from tests.integration.test_end_to_end import _deliver as deliver_hand_fixture
from tests.integration.test_production_settings import ENV_EXAMPLE, STRONG
from tests.mail import Mailbox

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("embedded_airflow")]


def _wait(what: str, check: Callable[[], object], topology, timeout: float = 600.0) -> tuple[object, float]:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if dead := topology.running():
            raise AssertionError(f"while waiting for {what}: " + "; ".join(dead))
        try:
            value = check()
        except (duckdb.Error, OSError):
            value = None
        if value:
            return value, time.monotonic() - started
        time.sleep(1)
    logs = {p.name: p.read_text(errors="replace")[-1500:] for p in sorted(topology.log_dir.glob("*.log"))}
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; logs: {json.dumps(logs)[-8000:]}")


def test_the_compose_topology_runs_natively_and_publishes_an_inbox_and_a_redis_delivery(
        tmp_path: Path, postgres_metadata_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiosmtpd.controller import Controller

    from ingestion import announce
    from ingestion.config import settings
    from orchestration.topology import NativeTopology, free_port
    from simulator.demo import metadata_rows

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mail = Mailbox()
    relay = Controller(mail, hostname="127.0.0.1", port=free_port())
    relay.start()
    database = postgres_metadata_db.rsplit("/", 1)[1]
    env_file = tmp_path / "production.env"
    overrides = {
        **STRONG,
        # this machine's PostgreSQL trusts local connections: the password is carried, not needed
        "POSTGRES_USER": "postgres", "POSTGRES_DB": database,
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": relay.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10, "retry_limit": 1}}),
        "KSP_ALERT_EMAIL": "data-engineering@krakow.test", "KSP_REPORT_EMAIL": "dyzurny@krakow.test",
    }
    env_file.write_text("\n".join([*ENV_EXAMPLE.read_text().splitlines(),
                                   *(f"{k}={v}" for k, v in overrides.items())]) + "\n")
    data = tmp_path / "data"
    topology = NativeTopology(env_file, data)
    services = topology.services
    assert set(services) == {"init", "api-server", "scheduler", "dag-processor", "triggerer", "worker",
                             "warehouse-worker"}
    scheduler_env = services["scheduler"].env
    assert scheduler_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert {s.env["AIRFLOW__API_AUTH__JWT_SECRET"] for s in services.values()} == {STRONG["AIRFLOW_JWT_SECRET"]}
    assert scheduler_env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    assert scheduler_env["KSP_DATA_DIR"] == str(data) and scheduler_env["KSP_ENV"] == "production"

    monkeypatch.setenv("KSP_DATA_DIR", str(data))
    cfg = settings()
    started = time.monotonic()
    timings: dict[str, float] = {}
    try:
        topology.start()
        topology.wait_for_api()
        timings["start → init done, api-server answering"] = time.monotonic() - started
        from ingestion.announce import STREAMED_SOURCES
        from ingestion.sources import SOURCES

        seen: list[object] = []

        def registered() -> bool:
            rows = metadata_rows(scheduler_env, "select (select count(*) from dag where not is_stale and not "
                                                "is_paused), (select count(*) from asset_watcher)")
            seen[:] = [rows]
            return bool(rows) and rows[0][0] >= len(SOURCES) + 1 and rows[0][1] >= len(SOURCES) + len(STREAMED_SOURCES)

        _wait(f"the DAGs and their watchers (unpaused DAGs, watchers: {seen})", registered, topology, timeout=300)
        timings["start → DAGs and watchers registered"] = time.monotonic() - started

        # a delivery dropped into the inbox, and an SOS press published on Redis
        t_inbox = time.monotonic()
        deliver_hand_fixture(cfg)
        sos = {"event_id": "SOS-PROD-0001", "point_id": "SOS-07", "pressed_at": "2025-05-12T21:14:05+02:00",
               "call_duration_s": 84, "classification": "confirmed_health_life", "camera_point": "WBZK-0001",
               "operator_note": "mężczyzna nieprzytomny, wezwano pogotowie"}
        redis_url = scheduler_env["AIRFLOW_CONN_KSP_REDIS"]
        assert redis_url.startswith(f"redis://:{STRONG['REDIS_PASSWORD']}@127.0.0.1:6379/")
        # a watcher row exists before the triggerer has run its trigger: a message published
        # before the subscription would reach nobody, so wait for the subscriber first
        _wait("the triggerer's subscription to the SOS channel",
              lambda: _subscribers(redis_url, announce.redis_channel("sos_alerts")), topology, timeout=180)
        t_redis = time.monotonic()
        assert announce.announce_redis(redis_url, "sos_alerts", sos) >= 1, "the triggerer is not subscribed"
        _, _ = _wait("the inbox delivery in the published mart",
                     lambda: cfg.published_path.exists() and _mart(cfg) == EXPECTED, topology)
        timings["inbox file → published mart"] = time.monotonic() - t_inbox
        _wait("the Redis event in the published marts", lambda: _published(
            cfg, "select classification, is_threat_to_health_life from marts.fct_sos_alert where event_id = ?",
            ["SOS-PROD-0001"]) == [("confirmed_health_life", True)], topology)
        timings["Redis event → published mart"] = time.monotonic() - t_redis
        [duty], _ = _wait("the duty officer's mail through the SMTP relay",
                          lambda: [m for m in mail.messages if m["subject"].startswith("[KSP] SOS")], topology)
        assert duty["to"] == ["dyzurny@krakow.test"] and "nieprzytomny" not in duty["body"]

        # the tasks ran on Celery, each on its queue's worker
        ran = metadata_rows(scheduler_env, "select queue, executor, count(*) from task_instance "
                                           "where state = 'success' group by 1, 2")
        by_queue = {q: n for q, _, n in ran}
        assert by_queue.get("warehouse", 0) >= 3 and by_queue.get("default", 0) >= 1, ran
        for worker in ("warehouse-worker", "worker"):
            log = (topology.log_dir / f"{worker}.log").read_text(errors="replace")
            assert f"{worker}@" in log and "ready" in log, log[-2000:]
        warehouse_log = (topology.log_dir / "warehouse-worker.log").read_text(errors="replace")
        general_log = (topology.log_dir / "worker.log").read_text(errors="replace")
        assert "land_deliveries" in warehouse_log and "land_deliveries" not in general_log
        # the FAB auth manager answers with the first engineer's account the init service made
        req = urllib.request.Request(f"{topology.api_url}/auth/token", method="POST",
                                     headers={"Content-Type": "application/json"},
                                     data=json.dumps({"username": scheduler_env["AIRFLOW_ADMIN_USER"],
                                                      "password": STRONG["AIRFLOW_ADMIN_PASSWORD"]}).encode())
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 201 and json.loads(r.read())["access_token"]
    finally:
        codes = topology.stop()
        relay.stop()
    assert set(codes) == set(services) - {"init"} and all(c is not None for c in codes.values()), codes
    print("\nProduction topology run natively (api-server, scheduler, dag-processor, triggerer, 2 Celery workers; "
          "PostgreSQL, Redis, SMTP on localhost):")
    for what, seconds in timings.items():
        print(f"  {what:<48} {seconds:6.1f} s")
