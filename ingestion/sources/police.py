"""``police``: monthly KMP Kraków incident exports (SPEC §5).

Windows-1250, ``;``-delimited, decimal commas, local times without an offset, and
coordinates in PUWG 1992 with the Polish geodetic naming (X = northing, Y = easting).
The free-text ``opis`` is landed only scrubbed of names, phone numbers and plates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ingestion import geo, privacy
from ingestion.core import FileName, Parsed, Source
from ingestion.sources import _convert as cv
from ingestion.sources._text import as_dicts, decode_strict, read_records
from ingestion.timeutil import localize_warsaw

COLUMNS_IN_FILE = ["nr_zdarzenia", "data", "godzina", "kwalifikacja", "opis", "ulica", "x_puwg92", "y_puwg92"]

_QUALIFICATION = re.compile(
    r"art\.\s*(?P<article>\d+[a-z]?(?:\^\d+)?)\s*(?:§\s*(?P<paragraph>\d+))?.*?\s(?P<code>kk|kw|uwtpa|uopn)\s*$",
    re.IGNORECASE,
)


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["month"], revision=int(m["rev"] or 0))


def _convert(rec: dict[str, str]) -> dict[str, object]:
    try:
        local = pd.to_datetime(f"{rec['data'].strip()} {rec['godzina'].strip()}", format="%d.%m.%Y %H:%M")
    except ValueError:
        raise cv.RowError("unparseable_datetime", "data", "expected DD.MM.YYYY and HH:MM") from None
    q = _QUALIFICATION.search(rec["kwalifikacja"].strip())
    return {
        "incident_id": cv.text(rec["nr_zdarzenia"], "nr_zdarzenia"),
        "occurred_local": local,
        "legal_qualification": cv.text(rec["kwalifikacja"], "kwalifikacja"),
        "legal_code": q["code"].lower() if q else None,
        "article": q["article"] if q else None,
        "paragraph": q["paragraph"] if q else None,
        "street": cv.text(rec["ulica"], "ulica"),
        "northing_x": cv.number(rec["x_puwg92"], "x_puwg92", required=True),
        "easting_y": cv.number(rec["y_puwg92"], "y_puwg92", required=True),
        "note": privacy.scrub(cv.text(rec["opis"], "opis")),
    }


def _raw(rec: dict[str, str]) -> dict[str, str | None]:
    return {**rec, "opis": privacy.scrub(rec.get("opis"))}


COLUMNS = ["incident_id", "occurred_local", "legal_qualification", "legal_code", "article", "paragraph",
           "street", "northing_x", "easting_y", "note"]


def _qualification(text: str | None) -> tuple[str | None, str | None, str | None]:
    q = _QUALIFICATION.search(text.strip()) if text is not None else None
    return (q["code"].lower(), q["article"], q["paragraph"]) if q else (None, None, None)


def _convert_frame(s: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`_convert` for the whole file (the rows it leaves out go to :func:`_convert`)."""
    local = pd.to_datetime(s["data"].str.strip() + " " + s["godzina"].str.strip(), format="%d.%m.%Y %H:%M",
                           errors="coerce")
    northing, ok_x = cv.v_number(s["x_puwg92"])
    easting, ok_y = cv.v_number(s["y_puwg92"])
    qualification = cv.v_text(s["kwalifikacja"])
    code, article, paragraph = zip(*cv.v_map(qualification, _qualification), strict=True) if len(s) else ((), (), ())
    frame = pd.DataFrame({
        "incident_id": cv.v_text(s["nr_zdarzenia"]),
        "occurred_local": local,
        "legal_qualification": qualification,
        "legal_code": pd.Series(code, dtype=object),
        "article": pd.Series(article, dtype=object),
        "paragraph": pd.Series(paragraph, dtype=object),
        "street": cv.v_text(s["ulica"]),
        "northing_x": northing,
        "easting_y": easting,
        "note": cv.v_map(cv.v_text(s["opis"]), privacy.scrub),
    })
    return frame, local.notna().to_numpy() & ok_x & ok_y


def _finish(f: pd.DataFrame) -> pd.DataFrame:
    """UTC from Warsaw wall-clock time, and WGS84 from the PUWG 1992 coordinates."""
    f["occurred_local"] = pd.to_datetime(f["occurred_local"])
    utc, ambiguous, nonexistent = localize_warsaw(f["occurred_local"])
    f["occurred_at"], f["is_time_ambiguous"], f["is_time_nonexistent"] = utc, ambiguous, nonexistent
    lon, lat = geo.to_wgs84(f["easting_y"].to_numpy(dtype=float), f["northing_x"].to_numpy(dtype=float))
    f["longitude"], f["latitude"] = np.round(lon, 7), np.round(lat, 7)
    f["is_inside_city"] = geo.inside_city(lon, lat)
    return f


def _read(path: Path) -> Iterator[tuple[int, list[str]]]:
    return read_records(decode_strict(path.read_bytes(), path.name, "cp1250"), path.name, delimiter=";",
                        expected=COLUMNS_IN_FILE)


PARSER = cv.Columnar(read=_read, in_file=COLUMNS_IN_FILE, columns=COLUMNS, convert_frame=_convert_frame,
                     convert_row=_convert, raw_view=_raw, finish=_finish)
parse = PARSER.parse  # one file (the landing parses bursts with PARSER.parse_many)


def parse_rows(path: Path) -> Parsed:
    """The file row by row: the reference the columnar :func:`parse` is tested against."""
    records = as_dicts(_read(path), COLUMNS_IN_FILE)
    parsed = cv.build(records, _convert, columns=COLUMNS, expected_fields=len(COLUMNS_IN_FILE), raw_view=_raw)
    _finish(parsed.frame)
    return parsed


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
        ("latitude", "DOUBLE"),
        ("longitude", "DOUBLE"),
        ("is_inside_city", "BOOLEAN"),
        ("note", "VARCHAR"),
    ),
    parse=parse,
    parse_many=PARSER.parse_many,
    parse_rows=parse_rows,
    file_name=_file_name,
    time_column="occurred_at",
    record_key="incident_id",
)
