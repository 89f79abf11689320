"""``sos_alerts``: SOS point events, JSON Lines per hour (SPEC §8)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from ingestion import privacy
from ingestion.core import FileName, Parsed, RefusedDelivery, Source
from ingestion.sources import _convert as cv

FIELDS = ["event_id", "point_id", "pressed_at", "call_duration_s", "classification", "camera_point",
          "operator_note"]
CLASSIFICATIONS = {"unconfirmed", "confirmed_other", "confirmed_health_life"}


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["hour"], revision=0)


def _lines(path: Path) -> list[tuple[int, dict[str, Any] | list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise RefusedDelivery(path.name, "encoding", f"not UTF-8 at byte {e.start}") from None
    if not text.strip():
        raise RefusedDelivery(path.name, "empty", "the file has no events")
    out: list[tuple[int, dict[str, Any] | list[str]]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            out.append((n, [line[:200]]))
            continue
        if not isinstance(event, dict):
            out.append((n, [line[:200]]))
            continue
        missing = [f for f in FIELDS if f not in event]
        if missing and n == 1 and len(missing) == len(FIELDS):
            raise RefusedDelivery(path.name, "missing_column", f"no SPEC field in the first event ({missing})",
                                  line=1)
        out.append((n, {f: event.get(f) for f in FIELDS}))
    return out


def _convert(rec: dict[str, Any]) -> dict[str, Any]:
    at = cv.instant(rec["pressed_at"], "pressed_at")
    return {
        "event_id": cv.text(rec["event_id"], "event_id"),
        "point_id": cv.text(rec["point_id"], "point_id"),
        "pressed_at": at.astimezone(dt.UTC),
        "pressed_local": at.replace(tzinfo=None),
        "call_duration_s": cv.integer(rec["call_duration_s"], "call_duration_s", required=True),
        "classification": cv.code(rec["classification"], {c: c for c in CLASSIFICATIONS}, "classification"),
        "camera_point_id": cv.text(rec["camera_point"], "camera_point"),
        "note": privacy.scrub(cv.text(rec["operator_note"], "operator_note")),
    }


def parse(path: Path) -> Parsed:
    parsed = cv.build(_lines(path), _convert, expected_fields=len(FIELDS),
                      columns=["event_id", "point_id", "pressed_at", "pressed_local", "call_duration_s",
                               "classification", "camera_point_id", "note"],
                      raw_view=lambda r: {**r, "operator_note": privacy.scrub(r.get("operator_note"))})
    f = parsed.frame
    # SPEC: events may come in any order and are landed sorted; an event pressed before one
    # above it in the file keeps that as a flag (the SOS system's own clock or queue is late),
    # it is never quarantined for it: a threat to life must not wait on a formality
    previous = f["pressed_at"].cummax().shift(1)
    f["is_in_order"] = (previous.isna() | (f["pressed_at"] >= previous)).astype(bool)
    parsed.frame = f.sort_values(["pressed_at", "_line"], kind="stable").reset_index(drop=True)
    return parsed


SOURCE = Source(
    name="sos_alerts",
    pattern=re.compile(r"sos_(?P<hour>\d{4}-\d{2}-\d{2}T\d{2})\.jsonl"),
    description="sos_YYYY-MM-DDTHH.jsonl",
    columns=(
        ("event_id", "VARCHAR"), ("point_id", "VARCHAR"), ("pressed_at", "TIMESTAMP WITH TIME ZONE"),
        ("pressed_local", "TIMESTAMP"), ("call_duration_s", "INTEGER"), ("classification", "VARCHAR"),
        ("camera_point_id", "VARCHAR"), ("note", "VARCHAR"), ("is_in_order", "BOOLEAN"),
    ),
    parse=parse,
    file_name=_file_name,
    time_column="pressed_at",
    record_key="event_id",
)
