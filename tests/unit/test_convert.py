"""Field conversions shared by the parsers, and Warsaw wall-clock times across both DST changes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ingestion.sources import _convert as cv
from ingestion.timeutil import localize_warsaw

pytestmark = pytest.mark.unit


def rule_of(fn, *args, **kwargs) -> tuple[str, str | None]:
    with pytest.raises(cv.RowError) as e:
        fn(*args, **kwargs)
    return e.value.rule, e.value.column


@pytest.mark.parametrize(("value", "expected"), [
    ("244210,55", 244210.55), ("27 630,50", 27630.5), ("1\xa0234,5", 1234.5), (" 50.06 ", 50.06),
    (7, 7.0), (2.5, 2.5), ("-3,0", -3.0)])
def test_number_reads_polish_decimal_commas_and_thousands_spaces(value: object, expected: float) -> None:
    assert cv.number(value, "c") == expected


def test_number_and_integer_errors() -> None:
    assert cv.number("", "c") is None and cv.number(float("nan"), "c") is None and cv.number(None, "c") is None
    assert rule_of(cv.number, " ", "c", required=True) == ("missing_value", "c")
    assert rule_of(cv.number, "12,5,1", "lat") == ("unparseable_number", "lat")
    assert rule_of(cv.number, "abc", "lat") == ("unparseable_number", "lat")
    assert cv.integer("5", "n") == 5 and cv.integer("5,0", "n") == 5 and cv.integer(3.0, "n") == 3
    assert rule_of(cv.integer, "1,5", "n") == ("unparseable_number", "n")
    assert rule_of(cv.integer, None, "n", required=True) == ("missing_value", "n")


def test_text_strips_and_requires() -> None:
    assert cv.text("  ul. Długa 5 ", "c") == "ul. Długa 5" and cv.text(12, "c") == "12"
    assert cv.text("   ", "c") is None
    assert rule_of(cv.text, "", "id", required=True) == ("missing_value", "id")


def test_date_reads_iso_polish_and_typed_cells() -> None:
    assert cv.date("2025-03-14", "d") == cv.date("14.03.2025", "d") == dt.date(2025, 3, 14)
    assert cv.date(dt.datetime(2025, 3, 14, 12, 0), "d") == dt.date(2025, 3, 14)
    assert cv.date(dt.date(2025, 3, 14), "d") == dt.date(2025, 3, 14)
    assert cv.date(None, "d") is None
    assert rule_of(cv.date, "31.02.2025", "d") == ("unparseable_date", "d")
    assert rule_of(cv.date, "2025/03/14", "d") == ("unparseable_date", "d")
    assert rule_of(cv.date, "", "d", required=True) == ("missing_value", "d")


def test_excel_serial_dates_are_not_read_as_dates() -> None:
    # an untyped Excel serial (45730 = 2025-03-14) is not guessed at: it is quarantined
    assert rule_of(cv.date, 45730, "d") == ("unparseable_date", "d")


def test_time_of_day() -> None:
    assert cv.time_of_day("21:15", "t") == dt.time(21, 15)
    assert cv.time_of_day("21:15:30", "t") == dt.time(21, 15, 30)
    assert cv.time_of_day(dt.time(7, 5), "t") == dt.time(7, 5)
    assert cv.time_of_day(dt.datetime(2025, 1, 1, 7, 5), "t") == dt.time(7, 5)
    for bad in ("24:00", "9.15", "", None):
        assert rule_of(cv.time_of_day, bad, "t") == ("unparseable_time", "t")


def test_instant_requires_an_offset() -> None:
    at = cv.instant("2025-10-26T02:30:00+01:00", "t")
    assert at.utcoffset() == dt.timedelta(hours=1) and at.astimezone(dt.UTC).hour == 1
    assert cv.instant("2025-04-01T10:00:00Z", "t") == dt.datetime(2025, 4, 1, 10, tzinfo=dt.UTC)
    assert rule_of(cv.instant, "2025-04-01T10:00:00", "t") == ("timestamp_without_offset", "t")
    assert rule_of(cv.instant, "01.04.2025 10:00", "t") == ("unparseable_timestamp", "t")
    assert rule_of(cv.instant, None, "t") == ("unparseable_timestamp", "t")


def test_code_maps_exact_labels_only() -> None:
    assert cv.code(" tak ", {"tak": True, "nie": False}, "c") is True
    assert rule_of(cv.code, "TAK", {"tak": True}, "c") == ("unknown_code", "c")
    assert rule_of(cv.code, None, {"tak": True}, "c", rule="bad_flag") == ("bad_flag", "c")


def test_build_numbers_rejects_and_counts_rows() -> None:
    def convert(rec: dict) -> dict:
        return {"v": cv.integer(rec["v"], "v", required=True)}

    parsed = cv.build([(2, {"v": "1"}), (3, {"v": "x"}), (4, {"v": "1"}), (5, ["a", "b"]), (6, {"v": "2"})],
                      convert, columns=["v"], expected_fields=1)
    assert [(r.line, r.rule, r.column) for r in parsed.rejects] == [
        (3, "unparseable_number", "v"), (4, "duplicate_row", None), (5, "field_count", None)]
    assert list(parsed.frame["_line"]) == [2, 6] and parsed.rows_read == 5
    assert set(parsed.raw) == {2, 3, 4, 6}
    again = cv.build([(2, {"v": "1"}), (3, {"v": "1"})], convert, columns=["v"], expected_fields=1, dedupe=False)
    assert again.rejects == [] and len(again.frame) == 2


# --------------------------------------------------------------------------- Warsaw wall clock → UTC

def test_localize_warsaw_across_both_changes() -> None:
    local = pd.Series(pd.to_datetime([
        "2025-03-30 01:59", "2025-03-30 02:00", "2025-03-30 02:59", "2025-03-30 03:00",   # spring gap
        "2025-10-26 01:59", "2025-10-26 02:00", "2025-10-26 02:59", "2025-10-26 03:00",   # autumn fold
        "2025-01-15 12:00", "2025-07-15 12:00", None]))
    utc, ambiguous, nonexistent = localize_warsaw(local)
    assert list(utc[:10]) == [pd.Timestamp(t, tz="UTC") for t in (
        "2025-03-30 00:59", "2025-03-30 01:00", "2025-03-30 01:00", "2025-03-30 01:00",  # gap → 03:00 CEST
        "2025-10-25 23:59", "2025-10-26 00:00", "2025-10-26 00:59", "2025-10-26 02:00",  # fold → first (CEST)
        "2025-01-15 11:00", "2025-07-15 10:00")]
    assert pd.isna(utc[10])
    assert list(nonexistent) == [False, True, True, False, False, False, False, False, False, False, False]
    assert list(ambiguous) == [False, False, False, False, False, True, True, False, False, False, False]
    assert ambiguous.dtype == bool and nonexistent.dtype == bool


def test_localize_warsaw_on_an_empty_series() -> None:
    utc, ambiguous, nonexistent = localize_warsaw(pd.Series([], dtype="datetime64[ns]"))
    assert len(utc) == len(ambiguous) == len(nonexistent) == 0
