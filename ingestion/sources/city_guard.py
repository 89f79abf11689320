"""``city_guard``: City Guard petty-offence records, monthly UTF-8 CSV (SPEC §6)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingestion.core import FileName, Parsed, Source
from ingestion.sources import _convert as cv
from ingestion.sources._text import as_dicts, decode_strict, read_records

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


COLUMNS = ["record_id", "occurred_at", "article_kw", "category_label", "latitude", "longitude", "patrol_area"]


def _convert_frame(s: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`_convert` for the whole file (the rows it leaves out go to :func:`_convert`)."""
    at, _local, _offset, ok_at = cv.v_instant(s["czas_utc"])
    latitude, ok_lat = cv.v_number(s["lat"])
    longitude, ok_lon = cv.v_number(s["lon"])
    frame = pd.DataFrame({
        "record_id": cv.v_text(s["id"]),
        "occurred_at": at,
        "article_kw": cv.v_map(cv.v_text(s["art_kw"]), normalise_article),
        "category_label": cv.v_text(s["kategoria_sm"]),
        "latitude": latitude,
        "longitude": longitude,
        "patrol_area": cv.v_text(s["rejon"]),
    })
    return frame, ok_at & ok_lat & ok_lon


def _read(path: Path) -> Iterator[tuple[int, list[str]]]:
    return read_records(decode_strict(path.read_bytes(), path.name, "utf-8"), path.name, delimiter=",",
                        expected=COLUMNS_IN_FILE)


PARSER = cv.Columnar(read=_read, in_file=COLUMNS_IN_FILE, columns=COLUMNS, convert_frame=_convert_frame,
                     convert_row=_convert, finish=cv.with_metric_coordinates)
parse = PARSER.parse  # one file (the landing parses bursts with PARSER.parse_many)


def parse_rows(path: Path) -> Parsed:
    """The file row by row: the reference the columnar :func:`parse` is tested against."""
    parsed = cv.build(as_dicts(_read(path), COLUMNS_IN_FILE), _convert,
                      columns=COLUMNS, expected_fields=len(COLUMNS_IN_FILE))
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
    parse_many=PARSER.parse_many,
    parse_rows=parse_rows,
    file_name=_file_name,
    time_column="occurred_at",
    record_key="record_id",
)
