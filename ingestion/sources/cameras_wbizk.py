"""``cameras_wbizk``: full inventory snapshots of the Security Department (SPEC §1).

Each XLSX delivery is the whole inventory on one date; installs, moves and removals
are read from successive snapshots downstream, so every snapshot is kept. The free
text ``Uwagi`` is landed only scrubbed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from ingestion import privacy
from ingestion.core import DISTRICT_NUMERALS, FileName, Parsed, Source
from ingestion.sources import _convert as cv
from ingestion.sources._xlsx import read_sheet

SHEET = "Punkty kamerowe"
COLUMNS_IN_FILE = [
    "Nr punktu", "Nazwa lokalizacji", "Dzielnica", "Szerokość geogr.", "Długość geogr.", "Typ",
    "Liczba kamer", "Data uruchomienia", "Data ostatniego przeniesienia", "Data demontażu",
    "Światłowód", "Zasilanie", "Koszt zakupu i montażu [zł]", "Uwagi",
]
KINDS = {"monitoring miejski": "city_monitoring", "wielosensorowe": "multisensor", "ANPR": "anpr"}
ROMAN = {r: i for i, r in enumerate(DISTRICT_NUMERALS, start=1)}
YES_NO = {"tak": True, "nie": False}


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["date"], revision=0)


def _convert(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "camera_point_id": cv.text(rec["Nr punktu"], "Nr punktu"),
        "location_name": cv.text(rec["Nazwa lokalizacji"], "Nazwa lokalizacji"),
        "district_id": cv.code(rec["Dzielnica"], ROMAN, "Dzielnica"),
        "latitude": cv.number(rec["Szerokość geogr."], "Szerokość geogr.", required=True),
        "longitude": cv.number(rec["Długość geogr."], "Długość geogr.", required=True),
        "camera_kind": cv.code(rec["Typ"], KINDS, "Typ"),
        "camera_count": cv.integer(rec["Liczba kamer"], "Liczba kamer", required=True),
        "installed_date": cv.date(rec["Data uruchomienia"], "Data uruchomienia", required=True),
        "last_moved_date": cv.date(rec["Data ostatniego przeniesienia"], "Data ostatniego przeniesienia"),
        "removed_date": cv.date(rec["Data demontażu"], "Data demontażu"),
        "has_fibre": cv.code(rec["Światłowód"], YES_NO, "Światłowód"),
        "has_power": cv.code(rec["Zasilanie"], YES_NO, "Zasilanie"),
        "capital_cost_pln": cv.number(rec["Koszt zakupu i montażu [zł]"], "Koszt zakupu i montażu [zł]"),
        "note": privacy.scrub(cv.text(rec["Uwagi"], "Uwagi")),
    }


def _raw(rec: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in rec.items()}
    out["Uwagi"] = privacy.scrub(out["Uwagi"]) if isinstance(out["Uwagi"], str) else out["Uwagi"]
    return out


def parse(path: Path) -> Parsed:
    records = read_sheet(path, SHEET, COLUMNS_IN_FILE)
    parsed = cv.build(records, _convert, columns=[c for c, _ in SOURCE.columns if c not in DERIVED],
                      expected_fields=len(COLUMNS_IN_FILE), raw_view=_raw, dedupe=False)
    cv.add_metric_coordinates(parsed)
    return parsed


DERIVED = ("easting_m", "northing_m", "is_inside_city")


SOURCE = Source(
    name="cameras_wbizk",
    pattern=re.compile(r"punkty_kamerowe_(?P<date>\d{4}-\d{2}-\d{2})\.xlsx"),
    description="punkty_kamerowe_YYYY-MM-DD.xlsx",
    columns=(
        ("camera_point_id", "VARCHAR"),
        ("location_name", "VARCHAR"),
        ("district_id", "INTEGER"),
        ("latitude", "DOUBLE"),
        ("longitude", "DOUBLE"),
        ("camera_kind", "VARCHAR"),
        ("camera_count", "INTEGER"),
        ("installed_date", "DATE"),
        ("last_moved_date", "DATE"),
        ("removed_date", "DATE"),
        ("has_fibre", "BOOLEAN"),
        ("has_power", "BOOLEAN"),
        ("capital_cost_pln", "DOUBLE"),
        ("note", "VARCHAR"),
        ("easting_m", "DOUBLE"),
        ("northing_m", "DOUBLE"),
        ("is_inside_city", "BOOLEAN"),
    ),
    parse=parse,
    file_name=_file_name,
)
