"""``mcpu``: Municipal Centre for Addiction Prevention interventions, quarterly XLSX (SPEC §7).

Addresses can point at a person's home, so only the street is landed, not the number.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.core import FileName, Parsed, Source
from ingestion.sources import _convert as cv
from ingestion.sources._xlsx import read_sheet
from ingestion.timeutil import localize_warsaw

SHEET = "Interwencje"
COLUMNS_IN_FILE = ["Data", "Godzina", "Adres", "Dzielnica", "Rodzaj interwencji", "Szer.", "Dł."]
KINDS = {
    "nietrzeźwy w miejscu publicznym": "intoxicated_in_public",
    "przewiezienie do izby wytrzeźwień": "taken_to_sobering_up_station",
    "interwencja narkotykowa": "drug_intervention", "interwencja kryzysowa": "crisis_intervention",
}
DISTRICTS = {
    "Stare Miasto": 1, "Grzegórzki": 2, "Prądnik Czerwony": 3, "Prądnik Biały": 4, "Krowodrza": 5,
    "Bronowice": 6, "Zwierzyniec": 7, "Dębniki": 8, "Łagiewniki-Borek Fałęcki": 9, "Swoszowice": 10,
    "Podgórze Duchackie": 11, "Bieżanów-Prokocim": 12, "Podgórze": 13, "Czyżyny": 14, "Mistrzejowice": 15,
    "Bieńczyce": 16, "Wzgórza Krzesławickie": 17, "Nowa Huta": 18,
}


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=f"{m['year']}-Q{m['q']}", revision=0)


def street_only(address: str | None) -> str | None:
    return None if address is None else re.sub(r"\s+\d+\S*(\s*/\s*\S+)?\s*$", "", address).strip()


def _convert(rec: dict[str, Any]) -> dict[str, Any]:
    day = cv.date(rec["Data"], "Data", required=True)
    tod = cv.time_of_day(rec["Godzina"], "Godzina")
    return {
        "occurred_local": dt.datetime.combine(day, tod),
        "street": street_only(cv.text(rec["Adres"], "Adres")),
        "district_id": cv.code(rec["Dzielnica"], DISTRICTS, "Dzielnica"),
        "kind_code": cv.code(rec["Rodzaj interwencji"], KINDS, "Rodzaj interwencji"),
        "latitude": cv.number(rec["Szer."], "Szer.", required=True),
        "longitude": cv.number(rec["Dł."], "Dł.", required=True),
    }


def _raw(rec: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v.isoformat() if isinstance(v, dt.date | dt.time) else v) for k, v in rec.items()}
    out["Adres"] = street_only(out["Adres"]) if isinstance(out["Adres"], str) else out["Adres"]
    return out


def parse(path: Path) -> Parsed:
    parsed = cv.build(read_sheet(path, SHEET, COLUMNS_IN_FILE), _convert, expected_fields=len(COLUMNS_IN_FILE),
                      columns=["occurred_local", "street", "district_id", "kind_code", "latitude", "longitude"],
                      raw_view=_raw, dedupe=False)
    f = parsed.frame
    f["occurred_local"] = pd.to_datetime(f["occurred_local"])
    f["occurred_at"], f["is_time_ambiguous"], f["is_time_nonexistent"] = localize_warsaw(f["occurred_local"])
    cv.add_metric_coordinates(parsed)
    return parsed


SOURCE = Source(
    name="mcpu",
    pattern=re.compile(r"mcpu_interwencje_(?P<year>\d{4})-Q(?P<q>[1-4])\.xlsx"),
    description="mcpu_interwencje_YYYY-Qn.xlsx",
    columns=(
        ("occurred_local", "TIMESTAMP"), ("occurred_at", "TIMESTAMP WITH TIME ZONE"),
        ("is_time_ambiguous", "BOOLEAN"), ("is_time_nonexistent", "BOOLEAN"), ("street", "VARCHAR"),
        ("district_id", "INTEGER"), ("kind_code", "VARCHAR"), ("latitude", "DOUBLE"), ("longitude", "DOUBLE"),
        ("easting_m", "DOUBLE"), ("northing_m", "DOUBLE"), ("is_inside_city", "BOOLEAN"),
    ),
    parse=parse,
    file_name=_file_name,
)
