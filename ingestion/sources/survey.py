"""``survey``: the resident safety survey, one wave per delivery, SPSS ``.sav`` or CSV (SPEC §4).

Respondent-level answers are landed (the marts need them for weighted estimates) but
never published: the marts aggregate them and suppress cells under ten respondents.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.core import FileName, Parsed, RefusedDelivery, Source
from ingestion.sources import _convert as cv

VARIABLES = ["resp_id", "fala", "dzielnica", "waga", "plec", "wiek_kat", "q1_bezp_dzien", "q2_bezp_noc",
             "q3_bezp_okolica", "q4_bezp_centrum", "q5_zaufanie_sm", "q6_zaufanie_policja", "q7_kamery_wiedza",
             "m1_lat", "m1_lon", "m1_powod", "m2_lat", "m2_lon", "m2_powod", "m3_lat", "m3_lon", "m3_powod"]
RENAMES = {"q1_bezp_dzien": "q1_safe_day", "q2_bezp_noc": "q2_safe_night", "q3_bezp_okolica": "q3_safe_neighbourhood",
           "q4_bezp_centrum": "q4_safe_centre", "q5_zaufanie_sm": "q5_trust_city_guard",
           "q6_zaufanie_policja": "q6_trust_police", "q7_kamery_wiedza": "q7_knows_cameras"}
SEASONS = {"wiosna": "W", "jesien": "J"}


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=f"{m['year']}{SEASONS[m['season']]}", revision=0)


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".sav":
        import pyreadstat

        try:
            frame, _ = pyreadstat.read_sav(str(path))
        except Exception as e:  # pyreadstat raises its own ReadstatError for every broken file
            raise RefusedDelivery(path.name, "not_sav", f"cannot be read as an SPSS file ({e})") from None
        return frame
    try:
        _refuse_if_cut_short(path)
        return pd.read_csv(path, sep=",", encoding="utf-8", dtype=str, keep_default_na=False)
    except UnicodeDecodeError as e:
        raise RefusedDelivery(path.name, "encoding", f"not UTF-8 at byte {e.start}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise RefusedDelivery(path.name, "csv_syntax", str(e).strip()) from None


def _refuse_if_cut_short(path: Path) -> None:
    """SPEC: a file cut short is refused whole. pandas fills a last record that lost its
    end with empty fields, so the cut respondent would load with no answers: a file
    without a final line end whose last record has fewer fields than the header is
    refused as ``truncated``, naming its line (as the delimited sources do)."""
    import csv
    import io

    data = path.read_bytes()
    if not data or data.endswith((b"\n", b"\r")):
        return
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8").removeprefix("\ufeff"), newline="")))
    except csv.Error:
        return  # not a short-record question: pandas reports the syntax, with its line
    if len(rows) > 1 and len(rows[-1]) < len(rows[0]):
        raise RefusedDelivery(path.name, "truncated", f"last record has {len(rows[-1])} of {len(rows[0])} fields "
                              "and no line end: the file was cut short", line=data.count(b"\n") + 1)


def _code(value: Any, column: str, allowed: set[int]) -> int | None:
    v = cv.integer(value, column)
    if v is not None and v not in allowed:
        raise cv.RowError("unknown_code", column, f"{v} is not one of {sorted(allowed)}")
    return v


def _convert(rec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "wave": cv.text(rec["fala"], "fala", required=True),
        "respondent_id": cv.integer(rec["resp_id"], "resp_id", required=True),
        "district_id": _code(rec["dzielnica"], "dzielnica", set(range(1, 19))),
        "weight": cv.number(rec["waga"], "waga", required=True),
        "sex_code": _code(rec["plec"], "plec", {1, 2, 9}),
        "age_group": _code(rec["wiek_kat"], "wiek_kat", {1, 2, 3, 4, 5, 6}),
    }
    for src, dst in RENAMES.items():
        out[dst] = _code(rec[src], src, {1, 2, 9} if src == "q7_kamery_wiedza" else {1, 2, 3, 4, 5, 9})
    for k in (1, 2, 3):
        out[f"m{k}_latitude"] = cv.number(rec[f"m{k}_lat"], f"m{k}_lat")
        out[f"m{k}_longitude"] = cv.number(rec[f"m{k}_lon"], f"m{k}_lon")
        out[f"m{k}_reason"] = _code(rec[f"m{k}_powod"], f"m{k}_powod", set(range(1, 8)))
    return out


COLUMNS = ["wave", "respondent_id", "district_id", "weight", "sex_code", "age_group", *RENAMES.values(),
           *[f"m{k}_{c}" for k in (1, 2, 3) for c in ("latitude", "longitude", "reason")]]


def parse(path: Path) -> Parsed:
    frame = _read(path)
    frame.columns = header = [str(c).strip() for c in frame.columns]
    if len(set(header)) != len(header):
        raise RefusedDelivery(path.name, "duplicate_column", "a variable name appears twice", line=1)
    missing = [v for v in VARIABLES if v not in header]
    if missing:
        raise RefusedDelivery(path.name, "missing_column", f"missing variable(s) {missing}", line=1,
                              column=missing[0])
    extra = [c for c in header if c not in VARIABLES]
    if extra:
        raise RefusedDelivery(path.name, "unexpected_column", f"variable(s) {extra} are not in the SPEC", line=1,
                              column=extra[0])
    records = ((i + 2, {v: rec[v] for v in VARIABLES}) for i, rec in enumerate(frame.to_dict("records")))
    wave = SOURCE.match(path).period_key
    parsed = cv.build(records, _convert, columns=COLUMNS, expected_fields=len(VARIABLES),
                      raw_view=lambda r: {k: (None if cv.blank(v) else v) for k, v in r.items()})
    parsed.frame["expected_wave"] = wave
    return parsed


SOURCE = Source(
    name="survey",
    pattern=re.compile(r"ankieta_(?P<year>\d{4})_(?P<season>wiosna|jesien)\.(?:sav|csv)"),
    description="ankieta_YYYY_wiosna.sav / ankieta_YYYY_jesien.sav (or .csv)",
    columns=(
        ("wave", "VARCHAR"), ("respondent_id", "INTEGER"), ("district_id", "INTEGER"), ("weight", "DOUBLE"),
        ("sex_code", "INTEGER"), ("age_group", "INTEGER"),
        *[(c, "INTEGER") for c in RENAMES.values()],
        *[(f"m{k}_{c}", "DOUBLE" if c != "reason" else "INTEGER") for k in (1, 2, 3)
          for c in ("latitude", "longitude", "reason")],
        ("expected_wave", "VARCHAR"),
    ),
    parse=parse,
    file_name=_file_name,
)
