"""Numbers, money, months and times written as the Security Department writes them.

Polish conventions (the department's own documents, DOMAIN.md): a space groups
thousands (``1 605 167,44 zł``), a comma is the decimal mark, a percent sign stands
after a space (``33 %``), months are named (``marzec 2026``; ``w marcu 2026``), and
every time is Warsaw time. One module so that every report and page says it alike.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")
NBSP = "\u00a0"  # keeps "1 605" and "33 %" on one line
MONTHS = ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień", "wrzesień",
          "październik", "listopad", "grudzień")
MONTHS_GENITIVE = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
                   "października", "listopada", "grudnia")
MONTHS_LOCATIVE = ("styczniu", "lutym", "marcu", "kwietniu", "maju", "czerwcu", "lipcu", "sierpniu", "wrześniu",
                   "październiku", "listopadzie", "grudniu")
MONTHS_SHORT = ("sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru")
WEEKDAYS_SHORT = ("pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz.")


def number(value: float | int | None, decimals: int = 0) -> str:
    """``1605167.444`` → ``1 605 167,44`` (with ``decimals=2``); ``None`` → ``–``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0,.") == "":
        text = text.lstrip("-")  # no "-0"
    return text.replace(",", NBSP).replace(".", ",").replace("-", "\u2212")


def money(value: float | int | None, decimals: int = 2) -> str:
    """``1605167.44`` → ``1 605 167,44 zł``."""
    return "–" if value is None else f"{number(value, decimals)}{NBSP}zł"


def percent(share: float | None, decimals: int = 0) -> str:
    """A share (``0.334``) as ``33 %``."""
    return "–" if share is None else f"{number(100 * share, decimals)}{NBSP}%"


def signed_percent(change: float | None, decimals: int = 0) -> str:
    """A relative change (``-0.12``) as ``−12 %``, ``+5 %``; no change as ``0 %``."""
    if change is None:
        return "–"
    text = percent(abs(change), decimals)
    if text.startswith("0" + NBSP) or text == "0":
        return text
    return ("+" if change > 0 else "\u2212") + text


def month_name(day: date) -> str:
    """``marzec 2026``."""
    return f"{MONTHS[day.month - 1]} {day.year}"


def in_month(day: date) -> str:
    """``w marcu 2026``."""
    return f"w {MONTHS_LOCATIVE[day.month - 1]} {day.year}"


def short_month(day: date) -> str:
    """``mar 2026`` (chart axes)."""
    return f"{MONTHS_SHORT[day.month - 1]} {day.year}"


def day(value: date | None) -> str:
    """``3 marca 2026``."""
    return "–" if value is None else f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year}"


def warsaw(moment: datetime | None) -> str:
    """An instant in Warsaw time: ``3 marca 2026, 07:00``."""
    if moment is None:
        return "–"
    local = moment.astimezone(WARSAW) if moment.tzinfo else moment
    return f"{day(local.date())}, {local:%H:%M}"


def hour_of_week(hour: int) -> str:
    """Hour of the week (0 = Monday 00:00) as ``pon. 21:00``."""
    return f"{WEEKDAYS_SHORT[hour // 24]} {hour % 24:02d}:00"


def plural(n: int, one: str, few: str, many: str) -> str:
    """Polish plural: ``1 kamera``, ``3 kamery``, ``5 kamer``, ``22 kamery``, ``12 kamer``."""
    if n == 1:
        form = one
    elif n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        form = few
    else:
        form = many
    return f"{number(n)} {form}"
