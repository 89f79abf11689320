"""Calendar-bound checks: delivery deadlines, camera-register age, source freshness.

Each function is what one scheduled DAG runs (``dags/check_*``, ``dags/sync_*``); each
is idempotent and raises :class:`LateData` when the city's calendar was not met, so
Airflow retries it (the delivery may still arrive) and, after the last retry, alerts.
The retention purge is ingestion's (:mod:`ingestion.retention`): it owns the raw bytes.
"""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta
from typing import Any

from ingestion import ledger
from ingestion.config import Settings
from warehouse.dbt import source_freshness

log = logging.getLogger(__name__)


class LateData(RuntimeError):
    """An expected delivery has not landed by its deadline, or a source is stale."""


class HeldDeliveries(RuntimeError):
    """A build held deliveries out of the published marts because it failed on them:
    their sources stand at their last good state until someone releases or retracts them."""


class StuckInInbox(RuntimeError):
    """Files sit in the inbox that no claim will take (symlinks, dot-files, abandoned
    partial uploads, unknown source folders): someone must act."""


# --------------------------------------------------------------------------- deadlines


def previous_month(day: date) -> str:
    first = day.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def survey_wave_due(day: date) -> str:
    """The wave a check on ``day`` expects: from July the year's spring wave (``2025W``,
    ``ankieta_2025_wiosna``), before July the previous year's autumn wave (``2024J``)."""
    return f"{day.year}W" if day.month >= 7 else f"{day.year - 1}J"


def landed_periods(cfg: Settings, source: str) -> set[str]:
    if not cfg.ledger_path.exists():
        return set()
    con = ledger.open_for_reading(cfg)
    try:
        return ledger.current_periods(con, source)
    finally:
        con.close()


def expect_periods(cfg: Settings, expected: dict[str, str]) -> dict[str, str]:
    """Raise :class:`LateData` unless every ``source -> period_key`` has a current delivery."""
    missing = {s: p for s, p in expected.items() if p not in landed_periods(cfg, s)}
    if missing:
        raise LateData("not delivered by the deadline: " + ", ".join(
            f"{s} for {p} (expected in inbox/{s}/)" for s, p in sorted(missing.items())))
    log.info("all expected deliveries landed: %s", expected)
    return expected


def expect_recent_snapshots(cfg: Settings, sources: list[str], today: date) -> dict[str, str]:
    """Raise :class:`LateData` unless each register has a snapshot dated within the allowed age."""
    max_age = int(os.environ.get("KSP_CAMERA_INVENTORY_MAX_AGE_DAYS", "35"))
    latest: dict[str, str] = {}
    for source in sources:
        dated = sorted(p for p in landed_periods(cfg, source) if len(p) == 10)
        latest[source] = dated[-1] if dated else "never"
    stale = {s: d for s, d in latest.items() if d == "never" or (today - date.fromisoformat(d)).days > max_age}
    if stale:
        raise LateData(f"camera registers older than {max_age} days on {today}: " + ", ".join(
            f"{s} (latest snapshot {d})" for s, d in sorted(stale.items())))
    return latest


# --------------------------------------------------------------------------- the inbox


def check_inbox(cfg: Settings) -> int:
    """Raise :class:`StuckInInbox` naming every file the inbox cannot take, with the reason
    (what ``ksp status`` lists); the task's retries and final mail are the alert."""
    from ingestion import inbox
    from ingestion.sources import NAMES

    stuck = inbox.unclaimable(cfg.inbox_dir, NAMES, partial_grace_seconds=cfg.partial_grace_seconds)
    if stuck:
        raise StuckInInbox(f"{len(stuck)} file(s) in {cfg.inbox_dir} that no claim will take: " + "; ".join(
            f"{e['path']}: {e['reason']}" for e in stuck))
    log.info("nothing stuck in %s", cfg.inbox_dir)
    return 0


def check_held(cfg: Settings) -> int:
    """Raise :class:`HeldDeliveries` naming every delivery a failed build held (not the
    ones retracted by hand: those were meant); the task's retries and mail are the alert,
    every day until each is released (`ksp release`) or retracted (`ksp retract`)."""
    from ingestion import ledger

    if not cfg.ledger_path.exists():
        return 0
    con = ledger.open_for_reading(cfg)
    try:
        held = [w for w in ledger.withheld(con) if w["kind"] == "held"]
    finally:
        con.close()
    if held:
        raise HeldDeliveries(f"{len(held)} deliveries held out of the published marts since a build failed on them: "
                             + "; ".join(f"{w['source']}/{w['file_name']} ({w['delivery_id'][:12]}, since "
                                         f"{w['withheld_at']}): {w['reason']}" for w in held)
                             + "; fix, then `ksp release <delivery>`, or `ksp retract <delivery> --reason ...`")
    log.info("no delivery held out of the published marts")
    return 0


# --------------------------------------------------------------------------- freshness


def check_freshness(cfg: Settings) -> list[dict[str, Any]]:
    """Raise :class:`LateData` when a source is past its ``error_after``; warn in the log."""
    results = source_freshness(cfg)
    for f in results:
        (log.warning if f.status != "pass" else log.info)(
            "freshness %-14s %-5s last landed %s (%s h ago)", f.source, f.status, f.max_loaded_at, f.age_hours)
    stale = [f for f in results if f.status in {"error", "runtime error"}]
    if stale:
        raise LateData("stale sources: " + ", ".join(
            f"{f.source} (last landed {f.max_loaded_at or 'never'})" for f in stale))
    return [f.__dict__ for f in results]
