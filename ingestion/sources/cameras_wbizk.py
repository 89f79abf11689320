"""``cameras_wbizk``: full inventory snapshots of the Security Department (SPEC §1).

Each XLSX delivery is the whole inventory on one date; installs, moves and removals
are read from successive snapshots downstream, so every snapshot is kept. The free
text ``Uwagi`` is not landed (it may name people); the privacy step adds a scrubbed
copy later.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.core import DISTRICT_NUMERALS, FileName, Parsed, RefusedDelivery, Reject, Source

SHEET = "Punkty kamerowe"
COLUMNS_IN_FILE = [
    "Nr punktu", "Nazwa lokalizacji", "Dzielnica", "Szerokość geogr.", "Długość geogr.", "Typ",
    "Liczba kamer", "Data uruchomienia", "Data ostatniego przeniesienia", "Data demontażu",
    "Światłowód", "Zasilanie", "Koszt zakupu i montażu [zł]", "Uwagi",
]
KINDS = {"monitoring miejski": "city_monitoring", "wielosensorowe": "multisensor", "ANPR": "anpr"}
ROMAN = {r: i for i, r in enumerate(DISTRICT_NUMERALS, start=1)}
YES_NO = {"tak": True, "nie": False}


class _RowError(ValueError):
    def __init__(self, rule: str, column: str, detail: str) -> None:
        super().__init__(detail)
        self.rule, self.column, self.detail = rule, column, detail


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["date"], revision=0)


def _date(value: Any, column: str, *, required: bool) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _RowError("missing_value", column, "a date is required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise _RowError("unparseable_date", column, f"'{text}' is not a date")


def _number(value: Any, column: str, *, required: bool) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _RowError("missing_value", column, "a number is required")
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip().replace("\xa0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise _RowError("unparseable_number", column, f"'{value}' is not a number") from None


def _code(value: Any, mapping: dict[str, Any], column: str) -> Any:
    key = "" if value is None else str(value).strip()
    if key not in mapping:
        raise _RowError("unknown_code", column, f"'{key}' is not one of {sorted(mapping)}")
    return mapping[key]


def _convert(rec: dict[str, Any]) -> dict[str, Any]:
    count = _number(rec["Liczba kamer"], "Liczba kamer", required=True)
    if count is not None and count != int(count):
        raise _RowError("unparseable_number", "Liczba kamer", f"'{count}' is not a whole number")
    return {
        "camera_point_id": (str(rec["Nr punktu"]).strip() if rec["Nr punktu"] is not None else None),
        "location_name": (str(rec["Nazwa lokalizacji"]).strip() if rec["Nazwa lokalizacji"] else None),
        "district_id": _code(rec["Dzielnica"], ROMAN, "Dzielnica"),
        "latitude": _number(rec["Szerokość geogr."], "Szerokość geogr.", required=True),
        "longitude": _number(rec["Długość geogr."], "Długość geogr.", required=True),
        "camera_kind": _code(rec["Typ"], KINDS, "Typ"),
        "camera_count": int(count) if count is not None else None,
        "installed_date": _date(rec["Data uruchomienia"], "Data uruchomienia", required=True),
        "last_moved_date": _date(rec["Data ostatniego przeniesienia"],
                                 "Data ostatniego przeniesienia", required=False),
        "removed_date": _date(rec["Data demontażu"], "Data demontażu", required=False),
        "has_fibre": _code(rec["Światłowód"], YES_NO, "Światłowód"),
        "has_power": _code(rec["Zasilanie"], YES_NO, "Zasilanie"),
        "capital_cost_pln": _number(rec["Koszt zakupu i montażu [zł]"],
                                    "Koszt zakupu i montażu [zł]", required=False),
    }


def _raw(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in rec.items() if k != "Uwagi"}


def parse(path: Path) -> Parsed:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise RefusedDelivery(path.name, "not_xlsx", f"cannot be opened as an XLSX workbook ({e})") from None
    try:
        if SHEET not in wb.sheetnames:
            raise RefusedDelivery(path.name, "missing_sheet",
                                  f"no sheet '{SHEET}' (sheets: {wb.sheetnames})")
        rows = wb[SHEET].iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise RefusedDelivery(path.name, "empty", f"sheet '{SHEET}' is empty", line=1)
        header = [str(h).strip() if h is not None else "" for h in header_row]
        while header and header[-1] == "":
            header.pop()
        missing = [c for c in COLUMNS_IN_FILE if c not in header]
        if missing:
            raise RefusedDelivery(path.name, "missing_column", f"missing column(s) {missing}; "
                                  f"header is {header}", line=1, column=missing[0])
        extra = [c for c in header if c not in COLUMNS_IN_FILE]
        if extra:
            raise RefusedDelivery(path.name, "unexpected_column", f"column(s) {extra} are not in "
                                  "the SPEC", line=1, column=extra[0])
        index = {c: header.index(c) for c in COLUMNS_IN_FILE}
        out: list[dict[str, Any]] = []
        raw: dict[int, dict[str, Any]] = {}
        rejects: list[Reject] = []
        read = 0
        for line, values in enumerate(rows, start=2):
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            read += 1
            rec = {c: (values[i] if i < len(values) else None) for c, i in index.items()}
            raw[line] = _raw(rec)
            try:
                out.append({"_line": line, **_convert(rec)})
            except _RowError as e:
                rejects.append(Reject(line, e.rule, e.column, raw[line], e.detail))
    finally:
        wb.close()
    frame = pd.DataFrame(out, columns=["_line", *[c for c, _ in SOURCE.columns]])
    return Parsed(frame=frame, raw=raw, rejects=rejects, rows_read=read)


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
    ),
    parse=parse,
    file_name=_file_name,
)
