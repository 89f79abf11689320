"""Reports for the city's security department, read from the published warehouse only.

* monthly (``report_security_monthly``): camera points, interventions and SOS alerts
  of one calendar month;
* per survey wave (``check_survey_wave``): perceived against recorded safety by district;
* the SOS duty summary (``report_sos_duty``): new alerts since the last summary, threats
  to health or life first.

Each report is a folder ``reports/<kind>/<key>/`` with ``report.html`` and CSV tables,
written to a temporary folder and renamed into place: a reader never sees half a
report, and re-running a month (a backfill) rewrites the same bytes. Only published
marts are read, so nothing personal can reach a report.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ingestion.config import Settings


class WarehouseNotPublished(RuntimeError):
    """No published warehouse yet: nothing to report from."""


def _published(cfg: Settings) -> duckdb.DuckDBPyConnection:
    if not cfg.published_path.exists():
        raise WarehouseNotPublished(f"{cfg.published_path} does not exist yet: no build has been published")
    return duckdb.connect(str(cfg.published_path), read_only=True)


def _table(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
    cur = con.execute(sql, list(params))
    return [d[0] for d in cur.description], cur.fetchall()


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.3f}".replace(",", " ")
    return html.escape(str(v))


def _html_table(cols: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td>none</td></tr>'}</tbody></table>"


def _csv(cols: list[str], rows: list[tuple]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    w.writerows(rows)
    return buf.getvalue()


def _write(cfg: Settings, kind: str, key: str, title: str, build_id: str,
           sections: list[tuple[str, str, list[str], list[tuple]]]) -> Path:
    """Write report.html and one CSV per section into ``reports/<kind>/<key>/`` atomically."""
    target = cfg.reports_dir / kind / key
    tmp = target.with_name(f".{key}.{time.time_ns()}.tmp")
    tmp.mkdir(parents=True)
    parts = [f"<!doctype html><html lang='pl'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}th{background:#eee}</style></head>"
             f"<body><h1>{html.escape(title)}</h1>"
             f"<p>Source: published warehouse, build {html.escape(build_id)}.</p>"]
    for slug, heading, cols, rows in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>{_html_table(cols, rows)}")
        (tmp / f"{slug}.csv").write_text(_csv(cols, rows))
    parts.append("</body></html>")
    (tmp / "report.html").write_text("\n".join(parts))
    old = None
    if target.exists():
        old = target.with_name(f".{key}.{time.time_ns()}.old")
        os.replace(target, old)
    os.replace(tmp, target)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _build_id(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select build_id from meta.build_info").fetchone()[0]


def monthly_report(cfg: Settings, month: date) -> Path:
    """The security department's report for one calendar month (``month`` = its first day)."""
    first = month.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    con = _published(cfg)
    try:
        cameras = _table(con, """
            select camera_point_id, location_name, period, sum(incident_count)::bigint as incidents,
                   sum(days_in_period)::bigint as days
            from marts.mart_camera_incidents_monthly where month_start_date = ?
            group by all order by camera_point_id, period""", [first])
        interventions = _table(con, """
            select category_label, count(*) as interventions, count(distinct camera_point_id) as camera_points
            from marts.fct_intervention where occurred_date >= ? and occurred_date < ?
            group by all order by interventions desc, category_label""", [first, nxt])
        sos = _table(con, """
            select classification, count(*) as alerts, round(avg(call_duration_s), 1) as mean_call_s
            from marts.fct_sos_alert where pressed_date >= ? and pressed_date < ?
            group by all order by classification""", [first, nxt])
        # the state of the cameras as of the build, not of the month: what to act on now
        faded = _table(con, """
            select distinct camera_point_id, latest_year_since_position as years_at_position,
                   round(first_year_rate_ratio, 2) as first_year_rr, round(latest_year_rate_ratio, 2) as latest_rr,
                   fade_evidence
            from marts.mart_effect_decay where is_faded order by camera_point_id""", [])
        plan = _table(con, """
            select move_rank, camera_point_id, from_location_name, to_area_type,
                   round(to_latitude, 5) as to_latitude, round(to_longitude, 5) as to_longitude,
                   round(offences_prevented_per_year, 1) as offences_prevented_per_year, evidence
            from marts.mart_relocation_plan order by move_rank""", [])
        build_id = _build_id(con)
    finally:
        con.close()
    key = first.strftime("%Y-%m")
    return _write(cfg, "monthly", key, f"Monitoring wizyjny – raport miesięczny {key}", build_id, [
        ("camera_points", "Offences within 150 m of camera points (before / after installation)", *cameras),
        ("interventions", "City Guard interventions from camera observation, by category", *interventions),
        ("sos_alerts", "SOS-point alerts, by classification", *sos),
        ("faded_cameras", "Cameras whose deterrent effect has faded (mart_effect_decay)", *faded),
        ("relocation_plan", "Recommended camera moves (exact covering-location optimisation)", *plan),
    ])


def survey_wave_report(cfg: Settings, wave: str) -> Path:
    """Perceived against recorded safety per district for one wave (suppression kept)."""
    con = _published(cfg)
    try:
        cols, rows = _table(con, """
            select district_id, district_name, respondents, is_suppressed,
                   round(unsafe_night_share, 3) as unsafe_night_share,
                   round(unsafe_night_share_ci_low, 3) as ci_low, round(unsafe_night_share_ci_high, 3) as ci_high,
                   round(offences_per_1000, 2) as offences_per_1000, round(perception_gap_z, 2) as gap_z
            from marts.mart_district_safety where wave = ? order by district_id""", [wave])
        build_id = _build_id(con)
    finally:
        con.close()
    if not rows:
        raise LookupError(f"wave {wave} is not in the published warehouse")
    return _write(cfg, "survey", wave, f"Badanie poczucia bezpieczeństwa – fala {wave}", build_id,
                  [("districts", "Feeling unsafe at night against recorded offences, by district", cols, rows)])


def _mark_path(cfg: Settings) -> Path:
    return cfg.reports_dir / "duty" / "high_water_mark.json"


def sos_duty_summary(cfg: Settings) -> tuple[Path, list[dict[str, Any]], str | None]:
    """Alerts landed since the last summary: the report, the new threat alerts, the new mark.

    The high-water mark (the latest ``ingested_at`` summarised) is kept beside the
    reports and moved on by :func:`commit_duty_mark` only after the duty officer was
    told, so each alert is announced once and none is lost to a failed mail.
    """
    mark_path = _mark_path(cfg)
    mark = json.loads(mark_path.read_text())["ingested_at"] if mark_path.exists() else "1970-01-01 00:00:00+00"
    con = _published(cfg)
    try:
        cols, rows = _table(con, """
            select event_id, point_id, pressed_local, classification, call_duration_s, camera_point_id,
                   cast(ingested_at as varchar) as ingested_at
            from marts.fct_sos_alert where ingested_at > cast(? as timestamptz)
            order by is_threat_to_health_life desc, pressed_at desc""", [mark])
        build_id = _build_id(con)
    finally:
        con.close()
    threats = [dict(zip(cols, r, strict=True)) for r in rows if r[3] == "confirmed_health_life"]
    path = _write(cfg, "duty", "latest", "SOS – podsumowanie dyżuru", build_id, [
        ("threats", "New alerts: threat to health or life", cols, [r for r in rows if r[3] == "confirmed_health_life"]),
        ("alerts", "All new alerts", cols, rows),
    ])
    return path, threats, max((r[-1] for r in rows), default=None)


def commit_duty_mark(cfg: Settings, mark: str | None) -> None:
    if mark is not None:
        _mark_path(cfg).write_text(json.dumps({"ingested_at": mark}))
