"""The WBiZK snapshot parser reads exactly SPEC §1 (and the XLSX rules shared with MCPU)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import cameras_wbizk
from ingestion.sources.cameras_wbizk import COLUMNS_IN_FILE as CAMERA_HEADER
from tests.builders import camera_row, cameras_xlsx, damage_xlsx, refusal

pytestmark = pytest.mark.unit
D = dt.date
NAME = "punkty_kamerowe_2026-01-31.xlsx"


def test_reads_codes_dates_and_scrubs_free_text(tmp_path: Path) -> None:
    path = cameras_xlsx(tmp_path / NAME, [
        camera_row("WBZK-0001", 50.0617, 19.9373, D(2016, 4, 12), district="I"),
        camera_row("WBZK-0002", 50.0855, 20.0285, D(2026, 1, 9), district="XVI", kind="wielosensorowe",
                   cameras=5, moved=D(2025, 6, 1), removed=None, cost=None),
        ["WBZK-0003", "Rondo", "XVIII", "50,0795", "20,0375", "ANPR", 1, "07.10.2024", "", "2025-12-01",
         "nie", "tak", "27 630,50", None],
    ])
    parsed = cameras_wbizk.parse(path)
    assert parsed.rejects == [] and parsed.rows_read == 3
    rows = {r["camera_point_id"]: r for r in parsed.frame.to_dict("records")}
    assert rows["WBZK-0002"]["camera_kind"] == "multisensor" and rows["WBZK-0002"]["camera_count"] == 5
    assert rows["WBZK-0002"]["district_id"] == 16 and rows["WBZK-0002"]["last_moved_date"] == D(2025, 6, 1)
    assert pd.isna(rows["WBZK-0002"]["capital_cost_pln"])
    third = rows["WBZK-0003"]
    # text cells with a decimal comma and a thousands space, and dates in both spellings
    assert (third["latitude"], third["capital_cost_pln"]) == (50.0795, 27630.5)
    assert (third["installed_date"], third["removed_date"]) == (D(2024, 10, 7), D(2025, 12, 1))
    assert third["has_fibre"] is False and third["has_power"] is True and third["camera_kind"] == "anpr"
    assert third["district_id"] == 18 and pd.isna(third["note"])
    # the builder's note names "p. Kowalski": landed and kept for quarantine only scrubbed
    assert rows["WBZK-0001"]["note"] == "uwagi: kontakt [osoba]"
    assert parsed.raw[2]["Uwagi"] == "uwagi: kontakt [osoba]"
    assert parsed.raw[2]["Data uruchomienia"].startswith("2016-04-12")
    # WGS84 → EPSG:2180 (easting ≈ 567 000, northing ≈ 244 200 in the centre)
    first = rows["WBZK-0001"]
    assert first["is_inside_city"] and 566_000 < first["easting_m"] < 568_000
    assert 243_500 < first["northing_m"] < 245_000


def test_unknown_codes_bad_dates_and_missing_values_become_rejects(tmp_path: Path) -> None:
    def bad(i: int, **kw: object) -> list[object]:
        return camera_row(f"WBZK-{i:04d}", 50.06, 19.93, D(2020, 1, 1), **kw)

    bad_date, no_lat, fibre, count, no_install = bad(4), bad(5), bad(6), bad(7), bad(8)
    bad_date[7] = "wczoraj"
    no_lat[3] = None
    fibre[10] = "TAK"
    count[6] = "1,5"
    no_install[7] = None
    path = cameras_xlsx(tmp_path / NAME, [bad(1), bad(2, kind="termowizja"), bad(3, district="XIX"), bad_date,
                                          no_lat, fibre, count, no_install, bad(1)])
    parsed = cameras_wbizk.parse(path)
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (3, "unknown_code", "Typ"), (4, "unknown_code", "Dzielnica"),
        (5, "unparseable_date", "Data uruchomienia"), (6, "missing_value", "Szerokość geogr."),
        (7, "unknown_code", "Światłowód"), (8, "unparseable_number", "Liczba kamer"),
        (9, "missing_value", "Data uruchomienia")}
    assert next(r for r in parsed.rejects if r.line == 3).raw["Typ"] == "termowizja"
    # a snapshot is not de-duplicated by the parser (the suite's id rule decides)
    assert list(parsed.frame["_line"]) == [2, 10]


def test_blank_rows_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    path = cameras_xlsx(tmp_path / NAME, [camera_row("WBZK-0001", 50.06, 19.93, D(2020, 1, 1)), [None] * 14,
                                          camera_row("WBZK-0002", 50.06, 19.93, D(2020, 1, 1), kind="x")])
    parsed = cameras_wbizk.parse(path)
    assert parsed.rows_read == 2 and [r.line for r in parsed.rejects] == [4]


# --------------------------------------------------------------------------- refusals (shared XLSX rules)

ROWS = [camera_row("WBZK-0001", 50.06, 19.93, D(2020, 1, 1))]


def test_missing_sheet_is_refused_naming_the_sheets(tmp_path: Path) -> None:
    e = refusal("cameras_wbizk", cameras_xlsx(tmp_path / NAME, ROWS, sheet="Arkusz1"))
    assert e.rule == "missing_sheet" and "Arkusz1" in e.detail and "Punkty kamerowe" in e.detail


def test_missing_and_unexpected_columns_are_refused(tmp_path: Path) -> None:
    renamed = ["Lat" if c == "Szerokość geogr." else c for c in CAMERA_HEADER]
    e = refusal("cameras_wbizk", cameras_xlsx(tmp_path / NAME, ROWS, header=renamed))
    assert (e.rule, e.column, e.line) == ("missing_column", "Szerokość geogr.", 1)
    e = refusal("cameras_wbizk", cameras_xlsx(tmp_path / NAME, [[*ROWS[0], "x"]], header=[*CAMERA_HEADER, "PESEL"]))
    assert (e.rule, e.column, e.line) == ("unexpected_column", "PESEL", 1)


def test_empty_sheet_is_refused(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Punkty kamerowe"
    wb.save(tmp_path / NAME)
    e = refusal("cameras_wbizk", tmp_path / NAME)
    assert (e.rule, e.line) == ("empty", 1)


def test_non_workbook_and_damaged_workbook_are_refused(tmp_path: Path) -> None:
    fake = tmp_path / NAME
    fake.write_text("Nr punktu;Nazwa\n", encoding="utf-8")
    e = refusal("cameras_wbizk", fake)
    assert e.rule == "not_xlsx" and "cannot be opened" in e.detail

    damaged = damage_xlsx(cameras_xlsx(tmp_path / "d" / NAME, ROWS * 50))
    e = refusal("cameras_wbizk", damaged)
    assert e.rule == "not_xlsx" and "damaged" in e.detail


def test_file_name_gives_the_snapshot_date() -> None:
    m = cameras_wbizk.SOURCE.match(Path(NAME))
    assert (m.period_key, m.revision) == ("2026-01-31", 0)
    with pytest.raises(RefusedDelivery) as e:
        cameras_wbizk.SOURCE.match(Path("punkty_kamerowe_2026-01-31.xls"))
    assert e.value.rule == "file_name"


def test_impossible_snapshot_date_in_the_name_is_refused() -> None:
    with pytest.raises(RefusedDelivery):
        cameras_wbizk.SOURCE.match(Path("punkty_kamerowe_2026-02-30.xlsx"))


# --------------------------------------------------------------------------- Great Expectations row rules

def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    def r(i: int, lat: float = 50.06, lon: float = 19.93, **kw: object) -> list[object]:
        return camera_row(f"WBZK-{i:04d}", lat, lon, D(2020, 1, 1), **kw)

    path = cameras_xlsx(tmp_path / NAME, [
        r(1), r(2),
        r(1),                                   # line 4: id again
        ["KAM-7", *r(3)[1:]],                   # line 5: bad id format
        r(4, lat=49.5),                         # line 6: south of Kraków
        r(5, lon=21.0),                         # line 7: east of Kraków
        r(6, lat=49.97, lon=19.80),             # line 8: inside the box, outside the city
        r(7, cameras=0),                        # line 9
        r(8, removed=D(2019, 1, 1)),            # line 10: removed before installed
        r(9, cost=-5.0),                        # line 11
        [None, *r(10)[1:]],                     # line 12: no id
    ])
    parsed = cameras_wbizk.parse(path)
    assert parsed.rejects == []
    [found] = row_rules("cameras_wbizk", parsed)
    assert found == {
        2: ("camera_point_id_unique", "camera_point_id"), 4: ("camera_point_id_unique", "camera_point_id"),
        5: ("camera_point_id_format", "camera_point_id"), 6: ("latitude_in_krakow", "latitude"),
        7: ("longitude_in_krakow", "longitude"), 8: ("inside_city", "is_inside_city"),
        9: ("camera_count_positive", "camera_count"), 10: ("removed_after_installed", "removed_date"),
        11: ("cost_not_negative", "capital_cost_pln"), 12: ("camera_point_id_required", "camera_point_id")}
