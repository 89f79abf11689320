"""The police parser reads exactly SPEC §5 and refuses, with file, line and rule, what it cannot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import police
from ingestion.sources.police import COLUMNS_IN_FILE as POLICE_HEADER
from tests.builders import POLICE_OK_ROW, police_csv

pytestmark = pytest.mark.unit


def row(**changes: str) -> list[str]:
    rec = dict(zip(POLICE_HEADER, POLICE_OK_ROW, strict=True))
    rec.update(changes)
    return [rec[c] for c in POLICE_HEADER]


def test_reads_windows_1250_decimal_commas_and_geodetic_axes(tmp_path: Path) -> None:
    path = police_csv(tmp_path / "kmp_zdarzenia_2025-03.csv",
                      [row(), row(nr_zdarzenia="KMP/2025/03/00002", ulica="ul. Źródlana 3",
                                  kwalifikacja="art. 43^1 ust. 1 uwtpa")])
    parsed = police.parse(path)
    assert parsed.rows_read == 2 and parsed.rejects == []
    first, second = parsed.frame.to_dict("records")
    # X is the northing, Y the easting (Polish convention), decimal comma read as a point
    assert first["northing_x"] == pytest.approx(244210.55)
    assert first["easting_y"] == pytest.approx(566980.10)
    assert (first["legal_code"], first["article"], first["paragraph"]) == ("kk", "278", "1")
    assert second["street"] == "ul. Źródlana 3"
    assert (second["legal_code"], second["article"]) == ("uwtpa", "43^1")
    # 21:15 in March is CET (UTC+1)
    assert first["occurred_at"] == pd.Timestamp("2025-03-14 20:15", tz="UTC")
    assert "opis" not in parsed.frame.columns  # free text lands only scrubbed
    assert first["note"] == "kradzież telefonu, zgłaszający [osoba] tel. [telefon]"
    assert first["is_inside_city"] and 50.0 < first["latitude"] < 50.1


def test_dst_fold_and_gap_are_resolved_and_flagged(tmp_path: Path) -> None:
    path = police_csv(tmp_path / "kmp_zdarzenia_2025-10.csv", [
        row(nr_zdarzenia="a", data="26.10.2025", godzina="02:30"),   # happens twice
        row(nr_zdarzenia="b", data="30.03.2025", godzina="02:30"),   # never happens
        row(nr_zdarzenia="c", data="26.10.2025", godzina="03:30"),
    ])
    f = police.parse(path).frame.set_index("incident_id")
    assert f.loc["a", "is_time_ambiguous"] and not f.loc["a", "is_time_nonexistent"]
    assert f.loc["a", "occurred_at"] == pd.Timestamp("2025-10-26 00:30", tz="UTC")  # first (CEST)
    assert f.loc["b", "is_time_nonexistent"]
    assert f.loc["b", "occurred_at"] == pd.Timestamp("2025-03-30 01:00", tz="UTC")  # shifted to 03:00
    assert not f.loc["c", "is_time_ambiguous"] and not f.loc["c", "is_time_nonexistent"]


def test_utf8_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    rows = [row(nr_zdarzenia=f"id{i}") for i in range(3)] + [row(nr_zdarzenia="x", ulica="ul. Łokietka 1")]
    path = police_csv(tmp_path / "kmp_zdarzenia_2025-03.csv", rows, encoding="utf-8")
    with pytest.raises(RefusedDelivery) as e:
        police.parse(path)
    assert e.value.rule == "encoding"
    assert e.value.line == 2  # the first data row already holds "kradzież" (ż is two bytes in UTF-8)
    assert "kmp_zdarzenia_2025-03.csv" in str(e.value) and "Windows-1250" in str(e.value)


def test_byte_undefined_in_cp1250_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kmp_zdarzenia_2025-03.csv"
    police_csv(path, [row(), row(nr_zdarzenia="2")])
    data = path.read_bytes().replace(b"Dluga", b"").replace(b"ul. D", b"ul. \x98")
    path.write_bytes(data)
    with pytest.raises(RefusedDelivery) as e:
        police.parse(path)
    assert (e.value.rule, e.value.line) == ("encoding", 2)


def test_missing_column_is_refused_naming_it(tmp_path: Path) -> None:
    header = [("x" if c == "x_puwg92" else c) for c in POLICE_HEADER]
    path = police_csv(tmp_path / "kmp_zdarzenia_2025-03.csv", [row()], header=header)
    with pytest.raises(RefusedDelivery) as e:
        police.parse(path)
    assert (e.value.rule, e.value.column, e.value.line) == ("missing_column", "x_puwg92", 1)


def test_wrong_delimiter_is_refused(tmp_path: Path) -> None:
    path = police_csv(tmp_path / "kmp_zdarzenia_2025-03.csv", [row()], delimiter=",")
    with pytest.raises(RefusedDelivery) as e:
        police.parse(path)
    assert e.value.rule in {"delimiter", "missing_column"}


def test_truncated_file_is_refused_at_its_last_line(tmp_path: Path) -> None:
    path = police_csv(tmp_path / "kmp_zdarzenia_2025-03.csv",
                      [row(nr_zdarzenia="1"), row(nr_zdarzenia="2"), row(nr_zdarzenia="3")[:4]],
                      final_newline=False)
    with pytest.raises(RefusedDelivery) as e:
        police.parse(path)
    assert (e.value.rule, e.value.line) == ("truncated", 4)


def test_bad_rows_are_rejects_with_line_rule_and_raw_values(tmp_path: Path) -> None:
    path = police_csv(tmp_path / "kmp_zdarzenia_2025-03.csv", [
        row(nr_zdarzenia="1"),
        row(nr_zdarzenia="2", data="31.02.2025"),
        row(nr_zdarzenia="3", x_puwg92="abc"),
        row(nr_zdarzenia="1"),                       # same bytes as line 2
        row(nr_zdarzenia="5")[:5],                   # fields missing mid-file
    ])
    parsed = police.parse(path)
    got = {(r.line, r.rule) for r in parsed.rejects}
    assert got == {(3, "unparseable_datetime"), (4, "unparseable_number"), (5, "duplicate_row"),
                   (6, "field_count")}
    dup = next(r for r in parsed.rejects if r.rule == "duplicate_row")
    assert dup.raw["nr_zdarzenia"] == "1"
    assert dup.raw["opis"] == "kradzież telefonu, zgłaszający [osoba] tel. [telefon]"  # kept scrubbed
    assert list(parsed.frame["_line"]) == [2]
    assert parsed.rows_read == 5


def test_file_name_gives_period_and_correction_number() -> None:
    m = police.SOURCE.match(Path("kmp_zdarzenia_2025-03_korekta2.csv"))
    assert (m.period_key, m.revision) == ("2025-03", 2)
    assert police.SOURCE.match(Path("kmp_zdarzenia_2025-03.csv")).revision == 0
    with pytest.raises(RefusedDelivery) as e:
        police.SOURCE.match(Path("kmp_zdarzenia_2025-13.csv"))
    assert e.value.rule == "file_name"
