"""Field conversions shared by the sources: each raises RowError naming rule and column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ingestion import geo
from ingestion.core import Parsed, Reject


class RowError(ValueError):
    """One row cannot be converted; it goes to quarantine with this rule."""

    def __init__(self, rule: str, column: str | None, detail: str) -> None:
        super().__init__(detail)
        self.rule, self.column, self.detail = rule, column, detail


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (
        isinstance(value, str) and not value.strip())


def text(value: Any, column: str, *, required: bool = False) -> str | None:
    if blank(value):
        if required:
            raise RowError("missing_value", column, "a value is required")
        return None
    return str(value).strip()


def number(value: Any, column: str, *, required: bool = False) -> float | None:
    """A number, with the Polish decimal comma and thousands spaces tolerated."""
    if blank(value):
        if required:
            raise RowError("missing_value", column, "a number is required")
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip().replace("\xa0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise RowError("unparseable_number", column, f"'{value}' is not a number") from None


def integer(value: Any, column: str, *, required: bool = False) -> int | None:
    v = number(value, column, required=required)
    if v is None:
        return None
    if v != int(v):
        raise RowError("unparseable_number", column, f"'{value}' is not a whole number")
    return int(v)


def _strptime_any(text: str, formats: tuple[str, ...]) -> dt.datetime | None:
    """The first of the formats the text matches, or None."""
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    return None


def date(value: Any, column: str, *, required: bool = False) -> dt.date | None:
    if blank(value):
        if required:
            raise RowError("missing_value", column, "a date is required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = str(value).strip()
    parsed = _strptime_any(s, ("%Y-%m-%d", "%d.%m.%Y"))
    if parsed is None:
        raise RowError("unparseable_date", column, f"'{s}' is not a date")
    return parsed.date()


def time_of_day(value: Any, column: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.datetime):
        return value.time()
    s = "" if value is None else str(value).strip()
    parsed = _strptime_any(s, ("%H:%M", "%H:%M:%S"))
    if parsed is None:
        raise RowError("unparseable_time", column, f"'{s}' is not a time of day")
    return parsed.time()


def instant(value: Any, column: str) -> dt.datetime:
    """ISO 8601 with an offset or Z → an aware UTC datetime (a naive one is refused)."""
    s = "" if value is None else str(value).strip()
    try:
        parsed = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise RowError("unparseable_timestamp", column, f"'{s}' is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise RowError("timestamp_without_offset", column, f"'{s}' has no UTC offset")
    return parsed


def code(value: Any, mapping: dict[str, Any], column: str, rule: str = "unknown_code") -> Any:
    key = "" if value is None else str(value).strip()
    if key not in mapping:
        raise RowError(rule, column, f"'{key}' is not one of {sorted(mapping)}")
    return mapping[key]


def build(records: Iterable[tuple[int, dict[str, Any] | list[str]]], convert: Callable[[dict[str, Any]], dict],
          *, columns: list[str], expected_fields: int, raw_view: Callable[[dict[str, Any]], dict] = dict,
          dedupe: bool = True) -> Parsed:
    """Convert numbered records into a Parsed table, quarantining what does not convert.

    A record given as a list had the wrong number of fields; an exact repeat of an
    earlier record is a ``duplicate_row``.
    """
    rows: list[dict[str, Any]] = []
    raw: dict[int, dict[str, Any]] = {}
    rejects: list[Reject] = []
    seen: dict[tuple, int] = {}
    read = 0
    for line, rec in records:
        read += 1
        if isinstance(rec, list):
            rejects.append(Reject(line, "field_count", None, {"fields": rec[:50]},
                                  f"{len(rec)} fields, expected {expected_fields}"))
            continue
        view = raw_view(rec)
        raw[line] = view
        if dedupe:
            key = tuple(str(v) for v in rec.values())
            if key in seen:
                rejects.append(Reject(line, "duplicate_row", None, view, f"same content as line {seen[key]}"))
                continue
            seen[key] = line
        try:
            rows.append({"_line": line, **convert(rec)})
        except RowError as e:
            rejects.append(Reject(line, e.rule, e.column, view, e.detail))
    return Parsed(frame=pd.DataFrame(rows, columns=["_line", *columns]), raw=raw, rejects=rejects, rows_read=read)


def add_metric_coordinates(parsed: Parsed) -> None:
    """EPSG:2180 coordinates and the inside-the-city flag from WGS84 latitude/longitude."""
    f = parsed.frame
    lon, lat = f["longitude"].to_numpy(dtype=float), f["latitude"].to_numpy(dtype=float)
    e, n = geo.to_metric(lon, lat)
    f["easting_m"], f["northing_m"] = np.round(e, 2), np.round(n, 2)
    f["is_inside_city"] = geo.inside_city(lon, lat)
