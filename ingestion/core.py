"""The shared core of ingestion: what a source must provide, and what a delivery becomes.

Every source module turns one delivered file into a :class:`Parsed` table: typed rows
(one per accepted line so far) plus the rows it could not even convert, each with
the line number, the rule broken and the raw values. A file that cannot be read at
all raises :class:`RefusedDelivery`, naming the file, the line or column and the rule
(SPEC, "What happens to a delivery").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd


class RefusedDelivery(Exception):
    """The whole file is refused: it is kept in ``refused/`` and nothing of it loads."""

    def __init__(self, file: str, rule: str, detail: str, *, line: int | None = None,
                 column: str | None = None) -> None:
        self.file = file
        self.rule = rule
        self.detail = detail
        self.line = line
        self.column = column
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column '{column}'")
        loc = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{file}{loc}: refused, rule '{rule}': {detail}")


@dataclass(frozen=True)
class Reject:
    """One row kept out of the landing table, with why and what it held."""

    line: int
    rule: str
    column: str | None
    raw: dict[str, Any]
    detail: str = ""


@dataclass
class Parsed:
    """A readable delivery: typed rows (column ``_line`` = line in the file) and rejects."""

    frame: pd.DataFrame
    raw: dict[int, dict[str, Any]]
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0


@dataclass(frozen=True)
class FileName:
    """What the SPEC's file name says about a delivery."""

    period_key: str  # the month, day or snapshot date the delivery covers
    revision: int  # 0 for the first delivery, N for ``_korekta<N>``


@dataclass(frozen=True)
class Source:
    """One delivery source of SPEC.md, behind the common read → typed table interface."""

    name: str
    pattern: re.Pattern[str]
    description: str
    columns: tuple[tuple[str, str], ...]  # landing columns: (name, DuckDB type)
    parse: Callable[[Path], Parsed]
    file_name: Callable[[re.Match[str]], FileName]
    # the landing column that names a record across deliveries (the staging model tests it
    # unique): a record already current under another period is quarantined at the door
    record_key: str | None = None
    # the landing column (UTC instant) that must fall in the period the file name states
    time_column: str | None = None
    # the parser makes keyed pseudonyms: the landing checks the key against the ledger's
    # before anything is parsed or written (a lost or changed key refuses the load)
    pseudonymises: bool = False
    # the row-by-row parser that ``parse`` (whole columns) must agree with, where the
    # source has both; ``KSP_PARSER=rows`` lands with it
    parse_rows: Callable[[Path], Parsed] | None = None
    # ``parse`` for a burst of files at once (one conversion for many small files): each
    # file's Parsed or the refusal that stopped it
    parse_many: Callable[[list[Path]], list[Parsed | RefusedDelivery]] | None = None

    def match(self, path: Path) -> FileName:
        m = self.pattern.fullmatch(path.name)
        if m is None:
            raise RefusedDelivery(
                path.name,
                "file_name",
                f"name does not match the SPEC pattern for '{self.name}' ({self.description})",
            )
        _check_calendar(path.name, m)
        return self.file_name(m)


_CALENDAR_FORMATS = {"date": "%Y-%m-%d", "hour": "%Y-%m-%dT%H", "month": "%Y-%m", "year": "%Y"}
# a name may run ahead of the platform's clock by a day (time zones, a file cut at midnight)
FUTURE_TOLERANCE = timedelta(days=1)


def _check_calendar(file: str, m: re.Match[str], now: datetime | None = None) -> None:
    """A name's date must exist and must not lie in the future (SPEC: refused). The
    patterns take any digits: `2026-13-45` became a period key that broke every later
    build's date conversion, and a month in 2031 stretched `dim_date` to 2031."""
    today = (now or datetime.now(UTC)).replace(tzinfo=None)
    for group, fmt in _CALENDAR_FORMATS.items():
        value = m.groupdict().get(group)
        if value is None:
            continue
        try:
            start = datetime.strptime(value, fmt)
        except ValueError:
            raise RefusedDelivery(file, "impossible_date", f"'{value}' in the name is not a real {group} "
                                  f"({fmt.replace('%', '')})") from None
        if start > today + FUTURE_TOLERANCE:
            raise RefusedDelivery(file, "period_in_future", f"the name's {group} '{value}' starts after "
                                  f"{today:%Y-%m-%d %H:%M} UTC, the platform's clock: a wrong name or a wrong clock")


# District numbers as the city writes them (I Stare Miasto … XVIII Nowa Huta).
DISTRICT_NUMERALS: tuple[str, ...] = (
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX",
    "X", "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII", "XVIII",
)

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_line", "INTEGER"),
    ("_delivery_id", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_period_key", "VARCHAR"),
    ("_ingested_at", "TIMESTAMP WITH TIME ZONE"),
)
