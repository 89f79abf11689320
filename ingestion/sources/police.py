"""``police``: monthly KMP Kraków incident exports (SPEC §5).

Windows-1250, ``;``-delimited, decimal commas, local times without an offset, and
coordinates in PUWG 1992 with the Polish geodetic naming (X = northing, Y = easting).
The free-text ``opis`` is not landed: it may carry names and phone numbers, and the
scrubbing that makes it safe belongs to the privacy step, not to a raw copy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ingestion.core import FileName, Parsed, Reject, Source
from ingestion.sources._text import decode_strict, read_records
from ingestion.timeutil import localize_warsaw

COLUMNS_IN_FILE = ["nr_zdarzenia", "data", "godzina", "kwalifikacja", "opis", "ulica",
                   "x_puwg92", "y_puwg92"]

_QUALIFICATION = re.compile(
    r"art\.\s*(?P<article>\d+[a-z]?(?:\^\d+)?)\s*(?:§\s*(?P<paragraph>\d+))?.*?\s(?P<code>kk|kw|uwtpa|uopn)\s*$",
    re.IGNORECASE,
)


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["month"], revision=int(m["rev"] or 0))


def _number(text: str) -> float:
    """Polish decimal comma; a thousands space is tolerated."""
    return float(text.strip().replace("\xa0", "").replace(" ", "").replace(",", "."))


def parse(path: Path) -> Parsed:
    text = decode_strict(path.read_bytes(), path.name, "cp1250")
    rows: list[dict[str, object]] = []
    raw: dict[int, dict[str, object]] = {}
    rejects: list[Reject] = []
    seen: dict[tuple[str, ...], int] = {}
    read = 0
    for line, fields in read_records(text, path.name, delimiter=";", expected=COLUMNS_IN_FILE):
        read += 1
        if len(fields) != len(COLUMNS_IN_FILE):
            rejects.append(Reject(line, "field_count", None, {"fields": fields},
                                  f"{len(fields)} fields, expected {len(COLUMNS_IN_FILE)}"))
            continue
        rec = dict(zip(COLUMNS_IN_FILE, fields, strict=True))
        raw_rec = {k: v for k, v in rec.items() if k != "opis"}
        raw[line] = raw_rec
        key = tuple(fields)
        if key in seen:
            rejects.append(Reject(line, "duplicate_row", None, raw_rec,
                                  f"same content as line {seen[key]}"))
            continue
        seen[key] = line
        try:
            local = pd.to_datetime(f"{rec['data'].strip()} {rec['godzina'].strip()}",
                                   format="%d.%m.%Y %H:%M")
        except ValueError:
            rejects.append(Reject(line, "unparseable_datetime", "data", raw_rec,
                                  "expected DD.MM.YYYY and HH:MM"))
            continue
        try:
            x, y = _number(rec["x_puwg92"]), _number(rec["y_puwg92"])
        except ValueError:
            rejects.append(Reject(line, "unparseable_coordinate", "x_puwg92", raw_rec,
                                  "expected a number with a decimal comma"))
            continue
        q = _QUALIFICATION.search(rec["kwalifikacja"].strip())
        rows.append({
            "_line": line,
            "incident_id": rec["nr_zdarzenia"].strip() or None,
            "occurred_local": local,
            "legal_qualification": rec["kwalifikacja"].strip() or None,
            "legal_code": q["code"].lower() if q else None,
            "article": q["article"] if q else None,
            "paragraph": q["paragraph"] if q else None,
            "street": rec["ulica"].strip() or None,
            "northing_x": x,
            "easting_y": y,
        })
    frame = pd.DataFrame(rows, columns=["_line", "incident_id", "occurred_local", "legal_qualification",
                                        "legal_code", "article", "paragraph", "street", "northing_x",
                                        "easting_y"])
    frame["occurred_local"] = pd.to_datetime(frame["occurred_local"])
    utc, ambiguous, nonexistent = localize_warsaw(frame["occurred_local"])
    frame.insert(3, "occurred_at", utc)
    frame.insert(4, "is_time_ambiguous", ambiguous)
    frame.insert(5, "is_time_nonexistent", nonexistent)
    return Parsed(frame=frame, raw=raw, rejects=rejects, rows_read=read)


SOURCE = Source(
    name="police",
    pattern=re.compile(r"kmp_zdarzenia_(?P<month>\d{4}-(?:0[1-9]|1[0-2]))(?:_korekta(?P<rev>[1-9]\d*))?\.csv"),
    description="kmp_zdarzenia_YYYY-MM.csv or kmp_zdarzenia_YYYY-MM_korekta<N>.csv",
    columns=(
        ("incident_id", "VARCHAR"),
        ("occurred_local", "TIMESTAMP"),
        ("occurred_at", "TIMESTAMP WITH TIME ZONE"),
        ("is_time_ambiguous", "BOOLEAN"),
        ("is_time_nonexistent", "BOOLEAN"),
        ("legal_qualification", "VARCHAR"),
        ("legal_code", "VARCHAR"),
        ("article", "VARCHAR"),
        ("paragraph", "VARCHAR"),
        ("street", "VARCHAR"),
        ("northing_x", "DOUBLE"),
        ("easting_y", "DOUBLE"),
    ),
    parse=parse,
    file_name=_file_name,
)
