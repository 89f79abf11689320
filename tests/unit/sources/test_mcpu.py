"""The MCPU parser reads exactly SPEC §7: sheet ``Interwencje``, typed date and time cells, street only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import mcpu
from ingestion.sources.mcpu import COLUMNS_IN_FILE as MCPU_HEADER
from tests.builders import damage_xlsx, mcpu_row, mcpu_xlsx, refusal

pytestmark = pytest.mark.unit
NAME = "mcpu_interwencje_2025-Q1.xlsx"
D, T = dt.date, dt.time


def test_reads_typed_cells_and_lands_only_the_street(tmp_path: Path) -> None:
    path = mcpu_xlsx(tmp_path / NAME, [
        mcpu_row(),
        mcpu_row("03.03.2025", "07:05", address="os. Złotego Wieku 12", district="Mistrzejowice",
                 kind="interwencja kryzysowa", lat="50,0960", lon="20,0070"),
        mcpu_row(D(2025, 3, 30), T(2, 30), address="ul. Kalwaryjska 5 / 7", district="Podgórze",
                 kind="przewiezienie do izby wytrzeźwień", lat=50.0420, lon=19.9480),
    ])
    parsed = mcpu.parse(path)
    assert parsed.rejects == [] and parsed.rows_read == 3
    first, second, gap = parsed.frame.to_dict("records")
    assert first["occurred_local"] == pd.Timestamp("2025-02-14 22:40")
    assert first["occurred_at"] == pd.Timestamp("2025-02-14 21:40", tz="UTC")
    assert (first["street"], first["district_id"], first["kind_code"]) == (
        "ul. Floriańska", 1, "intoxicated_in_public")
    assert parsed.raw[2]["Adres"] == "ul. Floriańska"  # the house number is not kept even for quarantine
    assert (second["street"], second["district_id"], second["kind_code"]) == (
        "os. Złotego Wieku", 15, "crisis_intervention")
    assert (second["latitude"], second["longitude"]) == (50.096, 20.007)
    assert second["occurred_at"] == pd.Timestamp("2025-03-03 06:05", tz="UTC")
    assert gap["street"] == "ul. Kalwaryjska" and gap["kind_code"] == "taken_to_sobering_up_station"
    # 02:30 on 30 March does not exist in Warsaw: shifted to 03:00 CEST and flagged
    assert gap["is_time_nonexistent"] and not gap["is_time_ambiguous"]
    assert gap["occurred_at"] == pd.Timestamp("2025-03-30 01:00", tz="UTC")
    assert first["is_inside_city"] and 566_000 < first["easting_m"] < 568_500


def test_bad_rows_become_rejects(tmp_path: Path) -> None:
    path = mcpu_xlsx(tmp_path / NAME, [
        mcpu_row(),
        mcpu_row("30.02.2025"),                          # line 3
        mcpu_row(None),                                  # line 4
        mcpu_row(time="późnym wieczorem"),               # line 5
        mcpu_row(time=None),                             # line 6
        mcpu_row(district="Kazimierz"),                  # line 7: not a district
        mcpu_row(kind="interwencja domowa"),             # line 8
        mcpu_row(lat=None),                              # line 9
        mcpu_row(lon="dziewiętnaście"),                  # line 10
        mcpu_row(),                                      # line 11: same as line 2, kept (no de-duplication)
    ])
    parsed = mcpu.parse(path)
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (3, "unparseable_date", "Data"), (4, "missing_value", "Data"), (5, "unparseable_time", "Godzina"),
        (6, "unparseable_time", "Godzina"), (7, "unknown_code", "Dzielnica"),
        (8, "unknown_code", "Rodzaj interwencji"), (9, "missing_value", "Szer."), (10, "unparseable_number", "Dł.")}
    assert next(r for r in parsed.rejects if r.line == 7).raw["Dzielnica"] == "Kazimierz"
    assert list(parsed.frame["_line"]) == [2, 11]


def test_refusals(tmp_path: Path) -> None:
    rows = [mcpu_row()]
    e = refusal("mcpu", mcpu_xlsx(tmp_path / "a" / NAME, rows, sheet="Arkusz1"))
    assert e.rule == "missing_sheet" and "Interwencje" in e.detail
    e = refusal("mcpu", mcpu_xlsx(tmp_path / "b" / NAME, rows, header=["Data", "Godzina", "Adres", "Dzielnica",
                                                                       "Rodzaj", "Szer.", "Dł."]))
    assert (e.rule, e.column, e.line) == ("missing_column", "Rodzaj interwencji", 1)
    e = refusal("mcpu", mcpu_xlsx(tmp_path / "c" / NAME, [[*rows[0], "Jan"]], header=[*MCPU_HEADER, "Nazwisko"]))
    assert (e.rule, e.column) == ("unexpected_column", "Nazwisko")
    # a header and no records parses to nothing (landing refuses it as no_rows)
    assert mcpu.parse(mcpu_xlsx(tmp_path / "d" / NAME, [])).rows_read == 0
    cameras = tmp_path / "e" / NAME
    from tests.builders import camera_row, cameras_xlsx

    cameras_xlsx(cameras, [camera_row("WBZK-0001", 50.06, 19.93, D(2020, 1, 1))])
    assert refusal("mcpu", cameras).rule == "missing_sheet"  # a camera workbook is not an MCPU one
    assert refusal("mcpu", damage_xlsx(mcpu_xlsx(tmp_path / "f" / NAME, rows * 80))).rule == "not_xlsx"


def test_file_name_gives_the_quarter() -> None:
    assert mcpu.SOURCE.match(Path("mcpu_interwencje_2025-Q4.xlsx")).period_key == "2025-Q4"
    for bad in ("mcpu_interwencje_2025-Q5.xlsx", "mcpu_interwencje_2025-Q1.xls", "mcpu_2025-Q1.xlsx"):
        with pytest.raises(RefusedDelivery) as e:
            mcpu.SOURCE.match(Path(bad))
        assert e.value.rule == "file_name"


def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    path = mcpu_xlsx(tmp_path / NAME, [mcpu_row(), mcpu_row(lat=49.5), mcpu_row(lon=20.5),
                                       mcpu_row(lat=49.97, lon=19.80)])
    [found] = row_rules("mcpu", mcpu.parse(path))
    assert found == {3: ("latitude_in_krakow", "latitude"), 4: ("longitude_in_krakow", "longitude"),
                     5: ("inside_city", "is_inside_city")}
