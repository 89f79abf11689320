"""Field conversions shared by the sources: each raises RowError naming rule and column."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingestion import geo
from ingestion.core import Parsed, RefusedDelivery, Reject

FrameConverter = Callable[[pd.DataFrame], tuple[pd.DataFrame, np.ndarray]]


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
    with_metric_coordinates(parsed.frame)


def with_metric_coordinates(f: pd.DataFrame) -> pd.DataFrame:
    """:func:`add_metric_coordinates` on a frame (a burst of files at once)."""
    lon, lat = f["longitude"].to_numpy(dtype=float), f["latitude"].to_numpy(dtype=float)
    e, n = geo.to_metric(lon, lat)
    f["easting_m"], f["northing_m"] = np.round(e, 2), np.round(n, 2)
    f["is_inside_city"] = geo.inside_city(lon, lat)
    return f


# --- the columnar path ------------------------------------------------------------------
# A delivery is converted as whole columns (pandas/NumPy, one call per column), and only
# the rows the vectorised rules do not accept go through the row-level converter above,
# which either names the rule they break (quarantine) or, where the vectorised rules
# were stricter than needed, converts them as it always did. So the rejects, their
# rules and details come from one place, and the columnar path lands exactly what the
# row-level one does (tests/integration/test_columnar_parity.py runs both on every
# simulator delivery and fault).

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# ISO 8601 with an explicit offset, the one shape the vectorised instant accepts; any
# other spelling Python's fromisoformat may still take goes to the row path
_ISO_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:\d{2})")


class LazyRaw(Mapping[int, dict[str, Any]]):
    """The raw view of every converted line, made only for the lines a rule rejects
    (the view scrubs free text, which is the costly part, and most lines never need it)."""

    def __init__(self, fields: dict[int, list[str]], columns: list[str],
                 view: Callable[[dict[str, Any]], dict]) -> None:
        self._fields, self._columns, self._view = fields, columns, view

    def __getitem__(self, line: int) -> dict[str, Any]:
        return self._view(dict(zip(self._columns, self._fields[line], strict=True)))

    def __iter__(self) -> Iterator[int]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)


@dataclass(frozen=True)
class _Tokens:
    """One file read and split into fields: what the per-file rules (field counts,
    repeated rows) left for conversion, and what they rejected."""

    lines: list[int]
    good: list[list[str]]
    kept: dict[int, list[str]]
    rejects: list[Reject]
    read: int


@dataclass(frozen=True)
class Columnar:
    """A source's parser over whole columns, for one file or a burst of them.

    ``read`` decodes and splits one file (``(line, fields)`` in ``in_file`` order, as
    ``_text.read_records`` gives them; a refusal raises there); ``convert_frame`` takes
    the fields of every file of the burst as object-dtype string columns and returns the
    converted ``columns`` and a mask of the rows it accepted; every other row goes to
    ``convert_row``, the row-level reference, which names the rule it breaks or converts
    it as it always did; ``finish`` adds what is computed from converted columns (UTC
    from wall-clock time, coordinates). Files many and small cost one conversion, not
    one each.
    """

    read: Callable[[Path], Iterable[tuple[int, list[str]]]]
    in_file: list[str]
    columns: list[str]
    convert_frame: FrameConverter
    convert_row: Callable[[dict[str, Any]], dict]
    raw_view: Callable[[dict[str, Any]], dict] = dict
    finish: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    dedupe: bool = True

    def parse(self, path: Path) -> Parsed:
        (result,) = self.parse_many([path])
        if isinstance(result, RefusedDelivery):
            raise result
        return result

    def parse_many(self, paths: list[Path]) -> list[Parsed | RefusedDelivery]:
        """Each file's Parsed, or the refusal that stopped it; the others are unaffected."""
        tokens: list[_Tokens | RefusedDelivery] = []
        for path in paths:
            try:
                tokens.append(self._tokenise(self.read(path)))
            except RefusedDelivery as refusal:
                tokens.append(refusal)
        parts = [t for t in tokens if isinstance(t, _Tokens)]
        frames = iter(self._convert(parts))
        return [t if isinstance(t, RefusedDelivery) else next(frames) for t in tokens]

    def _tokenise(self, records: Iterable[tuple[int, list[str]]]) -> _Tokens:
        n_fields = len(self.in_file)
        lines: list[int] = []
        good: list[list[str]] = []
        kept: dict[int, list[str]] = {}
        rejects: list[Reject] = []
        seen: dict[tuple, int] = {}
        read = 0
        for line, fields in records:
            read += 1
            if len(fields) != n_fields:
                rejects.append(Reject(line, "field_count", None, {"fields": fields[:50]},
                                      f"{len(fields)} fields, expected {n_fields}"))
                continue
            kept[line] = fields
            if self.dedupe:
                first = seen.setdefault(tuple(fields), line)
                if first != line:
                    rejects.append(Reject(line, "duplicate_row", None, self._raw(fields),
                                          f"same content as line {first}"))
                    continue
            lines.append(line)
            good.append(fields)
        return _Tokens(lines, good, kept, rejects, read)

    def _raw(self, fields: list[str]) -> dict[str, Any]:
        return self.raw_view(dict(zip(self.in_file, fields, strict=True)))

    def _convert(self, parts: list[_Tokens]) -> list[Parsed]:
        good = [fields for t in parts for fields in t.good]
        lines = np.asarray([line for t in parts for line in t.lines], dtype=np.int64)
        part = np.repeat(np.arange(len(parts)), [len(t.good) for t in parts])
        by_column = list(zip(*good, strict=True)) if good else [()] * len(self.in_file)
        strings = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in zip(self.in_file, by_column, strict=True)})
        frame, accepted = self.convert_frame(strings)
        frame = frame[self.columns]
        frame.insert(0, "_line", lines)
        rejects: list[list[Reject]] = [list(t.rejects) for t in parts]
        dropped: list[int] = []
        for i in np.flatnonzero(~np.asarray(accepted, dtype=bool)):
            try:
                values = self.convert_row(dict(zip(self.in_file, good[i], strict=True)))
            except RowError as e:
                rejects[part[i]].append(Reject(int(lines[i]), e.rule, e.column, self._raw(good[i]), e.detail))
                dropped.append(int(i))
                continue
            for column, value in values.items():  # the vectorised rules were stricter than the row's
                frame[column] = frame[column].astype(object)
                frame.iat[int(i), frame.columns.get_loc(column)] = value
        if dropped:
            keep = np.ones(len(frame), dtype=bool)
            keep[dropped] = False
            frame, part = frame[keep].reset_index(drop=True), part[keep]
        if self.finish is not None:
            frame = self.finish(frame)
        bounds = np.searchsorted(part, np.arange(len(parts) + 1))
        out = []
        for k, t in enumerate(parts):
            rejects[k].sort(key=lambda r: r.line)
            out.append(Parsed(frame=frame.iloc[bounds[k]:bounds[k + 1]].reset_index(drop=True),
                              raw=LazyRaw(t.kept, self.in_file, self.raw_view), rejects=rejects[k],
                              rows_read=t.read))
        return out


def v_text(s: pd.Series) -> pd.Series:
    """:func:`text` for a column: stripped, blank → None."""
    t = s.str.strip()
    return t.where(t != "", None)


def v_number(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:func:`number` for a column of required numbers: (values, accepted). Parsed by
    Python's own float (NumPy's object → float cast), so the values are the row path's."""
    t = s.str.strip().str.replace("\xa0", "", regex=False).str.replace(" ", "", regex=False) \
        .str.replace(",", ".", regex=False)
    ok = t.str.fullmatch(NUMBER).fillna(False).to_numpy(dtype=bool).copy()
    values = np.full(len(t), np.nan)
    values[ok] = t[ok].to_numpy(dtype=object).astype(float)
    return values, ok


def v_integer(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:func:`integer` for a column of required whole numbers (beyond 32 bits: the row path)."""
    values, ok = v_number(s)
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2**31)
    return np.where(ok, values, 0).astype(np.int64), ok


def v_instant(s: pd.Series) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """:func:`instant` for a column: (UTC instant, wall-clock time as written, offset in
    minutes, accepted). Only ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` with ``Z`` or ``±HH:MM``."""
    parts = s.str.strip().str.extract(_ISO_INSTANT.pattern.join("^$"))
    local = pd.to_datetime(parts[0], format="ISO8601", errors="coerce")
    offset = parts[1].where(parts[1] != "Z", "+00:00")
    sign = np.where(offset.str[0] == "-", -1, 1)
    minutes = sign * (pd.to_numeric(offset.str[1:3], errors="coerce") * 60
                      + pd.to_numeric(offset.str[4:6], errors="coerce"))
    ok = local.notna().to_numpy() & np.isfinite(minutes.to_numpy(dtype=float))
    minutes = np.where(ok, minutes, 0).astype(np.int64)
    utc = (local - pd.to_timedelta(minutes, unit="min")).dt.tz_localize("UTC")
    return utc, local, minutes, ok


def v_map(s: pd.Series, function: Callable[[Any], Any]) -> pd.Series:
    """``function`` applied once per distinct value (notes, qualifications and operator
    numbers repeat: a month of police records has a few thousand distinct ones)."""
    values = s.to_numpy(dtype=object)
    distinct = pd.unique(values)
    table = {v: function(v) for v in distinct}
    return pd.Series([table[v] for v in values], index=s.index, dtype=object)
