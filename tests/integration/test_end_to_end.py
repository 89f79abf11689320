"""The DAGs run for real (``dag.test()``: real task runner, real SQLite metadata, real dbt
and DuckDB) on a tiny delivery whose mart values are computed by hand below.

Camera points sit on round PUWG 1992 coordinates 2 km apart; incidents are placed at
known offsets, some just inside (149 m) and some just outside (151 m) the 150 m radius.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.duck import connect
from tests.builders import camera_row, cameras_xlsx, police_csv, sos_events, sos_jsonl

pytestmark = pytest.mark.integration
D = dt.date

# camera point: (easting, northing, installed, removed)
CAMERAS = {
    "WBZK-0001": (567000.0, 244200.0, D(2025, 3, 15), None),
    "WBZK-0002": (569000.0, 244200.0, D(2024, 1, 1), D(2025, 4, 1)),
    "WBZK-0003": (567000.0, 246200.0, D(2025, 5, 1), None),
}
# (local date, local time, camera it is placed near or None, east offset, north offset, distance note)
INCIDENTS = [
    ("2025-02-10", "10:00", "WBZK-0001", 100, 0),      # 100 m: in, before
    ("2025-02-20", "12:00", "WBZK-0001", 0, -149),     # 149 m: in, before
    ("2025-02-21", "12:00", "WBZK-0001", 151, 0),      # 151 m: out
    ("2025-03-14", "23:30", "WBZK-0001", 60, 80),      # 100 m: in, day before install
    ("2025-03-15", "00:10", "WBZK-0001", -100, 100),   # 141 m: in, install day counts as after
    ("2025-03-30", "02:30", "WBZK-0001", 0, 50),       # in, after; a time in the spring DST gap
    ("2025-04-05", "08:00", "WBZK-0001", 120, 80),     # 144 m: in, after
    ("2025-04-06", "09:00", "WBZK-0001", 110, 110),    # 156 m: out
    ("2025-02-01", "00:30", "WBZK-0002", 0, 10),       # in, after install
    ("2025-03-31", "23:59", "WBZK-0002", -140, 0),     # in, last day before removal
    ("2025-04-01", "00:00", "WBZK-0002", 0, 0),        # in, removal day: after removal
    ("2025-04-15", "14:00", "WBZK-0002", 200, 0),      # out
    ("2025-04-28", "16:00", "WBZK-0002", 90, -90),     # 127 m: in, after removal
    ("2025-02-14", "18:00", "WBZK-0003", 0, 149),      # in, before (installed in May)
    ("2025-03-03", "11:00", "WBZK-0003", -50, -50),    # in, before
    ("2025-04-30", "22:00", "WBZK-0003", 100, -100),   # 141 m: in, before
    ("2025-04-12", "03:00", "WBZK-0003", 300, 300),    # out
    ("2025-03-10", "15:00", None, 570500, 242000),     # far from every camera
    ("2025-02-02", "15:00", None, 565000, 243000),
    ("2025-04-20", "15:00", None, 568000, 245200),     # 1.4 km from each camera
]
# (camera, month, period) -> (incident_count, days_in_period), computed by hand from the above
EXPECTED = {
    ("WBZK-0001", "2025-02-01", "before_install"): (2, 28),
    ("WBZK-0001", "2025-03-01", "before_install"): (1, 14),
    ("WBZK-0001", "2025-03-01", "after_install"): (2, 17),
    ("WBZK-0001", "2025-04-01", "after_install"): (1, 30),
    ("WBZK-0002", "2025-02-01", "after_install"): (1, 28),
    ("WBZK-0002", "2025-03-01", "after_install"): (1, 31),
    ("WBZK-0002", "2025-04-01", "after_removal"): (2, 30),
    ("WBZK-0003", "2025-02-01", "before_install"): (1, 28),
    ("WBZK-0003", "2025-03-01", "before_install"): (1, 31),
    ("WBZK-0003", "2025-04-01", "before_install"): (1, 30),
}


def _deliver(cfg: Settings) -> None:
    con = connect(":memory:", cfg, spatial=True)
    cams = []
    for pid, (e, n, installed, removed) in CAMERAS.items():
        lon, lat = con.execute(
            "select st_x(g), st_y(g) from (select st_transform(st_point(?, ?), 'EPSG:2180', "
            "'EPSG:4326', always_xy := true) g)", [e, n]).fetchone()
        cams.append(camera_row(pid, lat, lon, installed, removed=removed, name=f"punkt {pid}"))
    con.close()
    cameras_xlsx(cfg.inbox_dir / "cameras_wbizk" / "punkty_kamerowe_2025-05-31.xlsx", cams)
    months: dict[str, list[list[str]]] = {}
    for i, (date, time, cam, de, dn) in enumerate(INCIDENTS, start=1):
        e, n = (CAMERAS[cam][0] + de, CAMERAS[cam][1] + dn) if cam else (de, dn)
        y, m, d = date.split("-")
        months.setdefault(f"{y}-{m}", []).append([
            f"KMP/{y}/{m}/{i:05d}", f"{d}.{m}.{y}", time, "art. 278 § 1 kk", "", "ul. Testowa 1",
            f"{n:.2f}".replace(".", ","), f"{e:.2f}".replace(".", ","),
        ])
    for month, rows in months.items():
        police_csv(cfg.inbox_dir / "police" / f"kmp_zdarzenia_{month}.csv", rows)


def _run(dag_id: str) -> dict[str, str]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(Path(__file__).resolve().parents[2] / "dags"))
    assert not bag.import_errors
    run = bag.dags[dag_id].test()
    return {ti.task_id: ti.state for ti in run.get_task_instances()} | {"__run__": run.state}


def test_dags_build_the_mart_computed_by_hand(cfg: Settings, airflow_db: Path) -> None:
    _deliver(cfg)
    assert _run("ingest_cameras_wbizk") == {"land_deliveries": "success", "__run__": "success"}
    assert _run("ingest_police") == {"land_deliveries": "success", "__run__": "success"}
    build = _run("build_warehouse")
    assert build.pop("__run__") == "success"
    assert build.pop("publish_warehouse") == "success"
    assert build.pop("record_failed_build") == "skipped"
    assert build.pop("plan_build") == "success"
    assert set(build.values()) == {"success"}  # a manual run builds every dbt node

    con = duckdb.connect(str(cfg.published_path), read_only=True)
    got = {
        (pid, str(month), period): (n, days)
        for pid, month, period, n, days in con.execute(
            "select camera_point_id, month_start_date, period, incident_count, days_in_period "
            "from marts.mart_camera_incidents_monthly").fetchall()
    }
    schemas = {r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    con.close()
    assert got == EXPECTED
    assert schemas == {"marts", "meta"}  # only marts are published, never staging or landing

    # the same deliveries again: ledger says duplicate, nothing lands, dbt is not triggered
    _deliver(cfg)
    assert _run("ingest_police") == {"land_deliveries": "skipped", "__run__": "success"}
    assert list((cfg.inbox_dir / "police").iterdir()) == []

    # an hourly SOS file with its events out of order and one bad event: every good event
    # lands (sorted), the bad one alone is quarantined, the threat reaches the duty summary
    ok = sos_events(4, hour="2025-02-10T21")
    threat = {**ok[3], "classification": "confirmed_health_life"}
    sos_jsonl(cfg.inbox_dir / "sos_alerts" / "sos_2025-02-10T21.jsonl",
              [ok[2], ok[0], {**ok[1], "call_duration_s": -3}, threat, {**ok[1], "event_id": "SOS-E2E-LATE"}])
    assert _run("ingest_sos_alerts") == {"land_deliveries": "success", "__run__": "success"}
    assert _run("build_warehouse")["__run__"] == "success"
    con = duckdb.connect(str(cfg.published_path), read_only=True)
    landed = con.execute("select event_id, is_in_order from marts.fct_sos_alert order by pressed_at").fetchall()
    con.close()
    assert landed == [(ok[0]["event_id"], False), ("SOS-E2E-LATE", False), (ok[2]["event_id"], True),
                      (threat["event_id"], True)]
    ledger = duckdb.connect(str(cfg.ledger_path), read_only=True)
    assert ledger.execute("select rows_loaded, rows_rejected from ops.load_ledger where source = 'sos_alerts'"
                          ).fetchall() == [(4, 1)]
    assert ledger.execute("select line_no, rule from ops.quarantine where source = 'sos_alerts'").fetchall() == [
        (3, "call_duration_not_negative")]
    ledger.close()
    from serving.reports import sos_duty_summary

    path, threats, _mark = sos_duty_summary(cfg)
    assert [t["event_id"] for t in threats] == [threat["event_id"]]
    page = (path / "raport.html").read_text(encoding="utf-8")
    assert page.index(threat["event_id"]) < page.index(ok[0]["event_id"])  # threats first
