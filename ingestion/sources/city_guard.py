"""``city_guard``: City Guard petty-offence records, monthly UTF-8 CSV (SPEC §6)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingestion.core import FileName, Parsed, Source
from ingestion.sources import _convert as cv
from ingestion.sources._text import decode_strict, read_dicts

COLUMNS_IN_FILE = ["id", "czas_utc", "art_kw", "kategoria_sm", "lat", "lon", "rejon"]


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["month"], revision=int(m["rev"] or 0))


_SUPERSCRIPTS = str.maketrans({"¹": "^1", "²": "^2", "³": "^3"})


def normalise_article(text: str | None) -> str | None:
    """``43¹`` → ``43^1`` and ``51 § 1`` → ``51§1``: the Police's spelling of a
    superscript article (SPEC §5), so the taxonomy has one key for both."""
    if text is None:
        return None
    return re.sub(r"\s+", "", text.translate(_SUPERSCRIPTS))


def _convert(rec: dict[str, str]) -> dict[str, Any]:
    at = cv.instant(rec["czas_utc"], "czas_utc")
    return {
        "record_id": cv.text(rec["id"], "id"),
        "occurred_at": at,
        "article_kw": normalise_article(cv.text(rec["art_kw"], "art_kw")),
        "category_label": cv.text(rec["kategoria_sm"], "kategoria_sm"),
        "latitude": cv.number(rec["lat"], "lat", required=True),
        "longitude": cv.number(rec["lon"], "lon", required=True),
        "patrol_area": cv.text(rec["rejon"], "rejon"),
    }


def parse(path: Path) -> Parsed:
    text = decode_strict(path.read_bytes(), path.name, "utf-8")
    parsed = cv.build(read_dicts(text, path.name, delimiter=",", expected=COLUMNS_IN_FILE), _convert,
                      columns=["record_id", "occurred_at", "article_kw", "category_label", "latitude",
                               "longitude", "patrol_area"], expected_fields=len(COLUMNS_IN_FILE))
    cv.add_metric_coordinates(parsed)
    return parsed


SOURCE = Source(
    name="city_guard",
    pattern=re.compile(r"sm_wykroczenia_(?P<month>\d{4}-(?:0[1-9]|1[0-2]))(?:_korekta(?P<rev>[1-9]\d*))?\.csv"),
    description="sm_wykroczenia_YYYY-MM.csv",
    columns=(
        ("record_id", "VARCHAR"), ("occurred_at", "TIMESTAMP WITH TIME ZONE"), ("article_kw", "VARCHAR"),
        ("category_label", "VARCHAR"), ("latitude", "DOUBLE"), ("longitude", "DOUBLE"), ("patrol_area", "VARCHAR"),
        ("easting_m", "DOUBLE"), ("northing_m", "DOUBLE"), ("is_inside_city", "BOOLEAN"),
    ),
    parse=parse,
    file_name=_file_name,
    time_column="occurred_at",
    record_key="record_id",
)
