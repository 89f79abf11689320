"""The City Guard parser reads exactly SPEC §6: UTF-8, ``,``, UTC times with ``Z``, WGS84."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import city_guard
from ingestion.sources.city_guard import COLUMNS_IN_FILE as HEADER
from tests.builders import city_guard_csv, city_guard_row, city_guard_rows, refusal

pytestmark = pytest.mark.unit
NAME = "sm_wykroczenia_2025-04.csv"
row = city_guard_row


def test_reads_utc_times_articles_and_coordinates(tmp_path: Path) -> None:
    path = city_guard_csv(tmp_path / NAME, rows=[
        row(), row(id="B", art_kw="43¹", czas_utc="2025-04-30T22:30:00+00:00", kategoria_sm="alkohol, ławka"),
        row(id="C", art_kw="51 § 1"), row(id="D", art_kw="145", czas_utc="2025-04-05T06:00:00+02:00")])
    assert b'"alkohol, \xc5\x82awka"' in path.read_bytes()
    parsed = city_guard.parse(path)
    assert parsed.rejects == []
    a, b, c, d = parsed.frame.to_dict("records")
    assert a["occurred_at"] == pd.Timestamp("2025-04-01 10:00", tz="UTC")
    assert b["occurred_at"] == pd.Timestamp("2025-04-30 22:30", tz="UTC")
    assert d["occurred_at"] == pd.Timestamp("2025-04-05 04:00", tz="UTC")  # an offset is honoured
    assert (a["article_kw"], b["article_kw"], c["article_kw"], d["article_kw"]) == ("51§1", "43^1", "51§1", "145")
    assert b["category_label"] == "alkohol, ławka" and a["patrol_area"] == "R1"
    assert (a["latitude"], a["longitude"]) == (50.0614, 19.9372) and a["is_inside_city"]
    assert 566_500 < a["easting_m"] < 567_500


def test_default_builder_writes_the_spec_bytes(tmp_path: Path) -> None:
    data = city_guard_csv(tmp_path / NAME, 2).read_bytes()
    assert data == (b"id,czas_utc,art_kw,kategoria_sm,lat,lon,rejon\n"
                    b"SM/2025-04/00000,2025-04-01T10:00:00Z,51\xc2\xa71,zak\xc5\x82\xc3\xb3canie porz\xc4\x85dku,"
                    b"50.0614,19.9372,R1\n"
                    b"SM/2025-04/00001,2025-04-02T10:00:00Z,51\xc2\xa71,zak\xc5\x82\xc3\xb3canie porz\xc4\x85dku,"
                    b"50.0614,19.9372,R1\n")


def test_bad_rows_become_rejects(tmp_path: Path) -> None:
    rows = city_guard_rows(8)
    rows[1] = row(id="2", czas_utc="wczoraj")
    rows[2] = row(id="3", czas_utc="2025-04-03T10:00:00")
    rows[3] = row(id="4", lat="50,06,1")
    rows[4] = row(id="5", lon="")
    rows[5] = rows[0]
    rows[6] = rows[6][:6]
    parsed = city_guard.parse(city_guard_csv(tmp_path / NAME, rows=rows))
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (3, "unparseable_timestamp", "czas_utc"), (4, "timestamp_without_offset", "czas_utc"),
        (5, "unparseable_number", "lat"), (6, "missing_value", "lon"), (7, "duplicate_row", None),
        (8, "field_count", None)}
    assert next(r for r in parsed.rejects if r.line == 3).raw["czas_utc"] == "wczoraj"
    assert list(parsed.frame["_line"]) == [2, 9]


def test_refusals(tmp_path: Path) -> None:
    path = tmp_path / NAME
    assert refusal("city_guard", city_guard_csv(path, 2, encoding="cp1250")).rule == "encoding"
    e = refusal("city_guard", city_guard_csv(path, 2, delimiter=";"))
    assert (e.rule, e.line) == ("delimiter", 1) and "found ';'" in e.detail
    e = refusal("city_guard", city_guard_csv(path, 2, header=[*HEADER[:4], "szer", "dl", "rejon"]))
    assert (e.rule, e.column) == ("missing_column", "lat")
    e = refusal("city_guard", city_guard_csv(path, rows=[[*r, "x"] for r in city_guard_rows(2)],
                                             header=[*HEADER, "sprawca"]))
    assert (e.rule, e.column) == ("unexpected_column", "sprawca")
    rows = city_guard_rows(3)
    rows[-1] = rows[-1][:3]
    e = refusal("city_guard", city_guard_csv(path, rows=rows, final_newline=False))
    assert (e.rule, e.line) == ("truncated", 4)
    path.write_bytes(b"")
    assert refusal("city_guard", path).rule == "empty"


def test_file_name_gives_month_and_correction() -> None:
    m = city_guard.SOURCE.match(Path("sm_wykroczenia_2025-04_korekta3.csv"))
    assert (m.period_key, m.revision) == ("2025-04", 3)
    assert city_guard.SOURCE.match(Path(NAME)).revision == 0
    with pytest.raises(RefusedDelivery) as e:
        city_guard.SOURCE.match(Path("sm_wykroczenia_2025-00.csv"))
    assert e.value.rule == "file_name"


def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    rows = city_guard_rows(7)
    rows[1] = row(id=rows[0][0], czas_utc="2025-04-09T10:00:00Z")  # line 3
    rows[2] = row(id="C", lat="49.5")                              # line 4
    rows[3] = row(id="D", lon="21.0")                              # line 5
    rows[4] = row(id="E", lat="49.97", lon="19.80")                # line 6
    rows[5] = row(id="F", art_kw="")                               # line 7
    rows[6] = row(id="", czas_utc="2025-04-20T10:00:00Z")          # line 8
    [found] = row_rules("city_guard", city_guard.parse(city_guard_csv(tmp_path / NAME, rows=rows)))
    assert found == {2: ("record_id_unique", "record_id"), 3: ("record_id_unique", "record_id"),
                     4: ("latitude_in_krakow", "latitude"), 5: ("longitude_in_krakow", "longitude"),
                     6: ("inside_city", "is_inside_city"), 7: ("article_required", "article_kw"),
                     8: ("record_id_required", "record_id")}
