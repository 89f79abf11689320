"""The WBiZK snapshot parser reads exactly SPEC §1."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import cameras_wbizk
from ingestion.sources.cameras_wbizk import COLUMNS_IN_FILE as CAMERA_HEADER
from tests.builders import camera_row, cameras_xlsx

pytestmark = pytest.mark.unit
D = dt.date


def test_reads_codes_dates_and_scrubs_free_text(tmp_path: Path) -> None:
    path = cameras_xlsx(tmp_path / "punkty_kamerowe_2026-01-31.xlsx", [
        camera_row("WBZK-0001", 50.0617, 19.9373, D(2016, 4, 12), district="I"),
        camera_row("WBZK-0002", 50.0855, 20.0285, D(2026, 1, 9), district="XVI", kind="wielosensorowe",
                   cameras=5, moved=None, removed=None, cost=None),
        ["WBZK-0003", "Rondo", "XVIII", "50,0795", "20,0375", "ANPR", 1, "07.10.2024", "", "2025-12-01",
         "nie", "tak", "27 630,50", None],
    ])
    parsed = cameras_wbizk.parse(path)
    assert parsed.rejects == [] and parsed.rows_read == 3
    rows = {r["camera_point_id"]: r for r in parsed.frame.to_dict("records")}
    assert rows["WBZK-0002"]["camera_kind"] == "multisensor" and rows["WBZK-0002"]["camera_count"] == 5
    assert rows["WBZK-0002"]["district_id"] == 16
    third = rows["WBZK-0003"]
    assert (third["latitude"], third["capital_cost_pln"]) == (50.0795, 27630.5)
    assert (third["installed_date"], third["removed_date"]) == (D(2024, 10, 7), D(2025, 12, 1))
    assert third["has_fibre"] is False and third["camera_kind"] == "anpr"
    # the builder's note names "p. Kowalski": landed and kept for quarantine only scrubbed
    assert rows["WBZK-0001"]["note"] == "uwagi: kontakt [osoba]"
    assert parsed.raw[2]["Uwagi"] == "uwagi: kontakt [osoba]"
    assert rows["WBZK-0001"]["is_inside_city"] and 566_000 < rows["WBZK-0001"]["easting_m"] < 568_000


def test_unknown_codes_and_bad_dates_become_rejects(tmp_path: Path) -> None:
    good = camera_row("WBZK-0001", 50.06, 19.93, D(2020, 1, 1))
    bad_kind = camera_row("WBZK-0002", 50.06, 19.93, D(2020, 1, 1), kind="termowizja")
    bad_district = camera_row("WBZK-0003", 50.06, 19.93, D(2020, 1, 1), district="XIX")
    bad_date = camera_row("WBZK-0004", 50.06, 19.93, D(2020, 1, 1))
    bad_date[7] = "wczoraj"
    path = cameras_xlsx(tmp_path / "punkty_kamerowe_2026-01-31.xlsx",
                        [good, bad_kind, bad_district, bad_date])
    parsed = cameras_wbizk.parse(path)
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (3, "unknown_code", "Typ"), (4, "unknown_code", "Dzielnica"),
        (5, "unparseable_date", "Data uruchomienia")}
    assert list(parsed.frame["camera_point_id"]) == ["WBZK-0001"]


def test_missing_sheet_column_and_non_xlsx_are_refused(tmp_path: Path) -> None:
    rows = [camera_row("WBZK-0001", 50.06, 19.93, D(2020, 1, 1))]
    with pytest.raises(RefusedDelivery) as e:
        cameras_wbizk.parse(cameras_xlsx(tmp_path / "a.xlsx", rows, sheet="Arkusz1"))
    assert e.value.rule == "missing_sheet" and "Arkusz1" in e.value.detail

    renamed = ["Lat" if c == "Szerokość geogr." else c for c in CAMERA_HEADER]
    with pytest.raises(RefusedDelivery) as e:
        cameras_wbizk.parse(cameras_xlsx(tmp_path / "b.xlsx", rows, header=renamed))
    assert (e.value.rule, e.value.column, e.value.line) == ("missing_column", "Szerokość geogr.", 1)

    fake = tmp_path / "punkty_kamerowe_2026-01-31.xlsx"
    fake.write_text("Nr punktu;Nazwa\n", encoding="utf-8")
    with pytest.raises(RefusedDelivery) as e:
        cameras_wbizk.parse(fake)
    assert e.value.rule == "not_xlsx" and "punkty_kamerowe_2026-01-31.xlsx" in str(e.value)
