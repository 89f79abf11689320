"""The police parser reads exactly SPEC §5 and refuses, with file, line and rule, what it cannot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import police
from ingestion.sources.police import COLUMNS_IN_FILE as POLICE_HEADER
from tests.builders import SCRUBBED_NOTE, police_csv, police_row, police_rows, refusal

pytestmark = pytest.mark.unit
NAME = "kmp_zdarzenia_2025-03.csv"
row = police_row


def test_reads_windows_1250_decimal_commas_and_geodetic_axes(tmp_path: Path) -> None:
    path = police_csv(tmp_path / NAME,
                      [row(), row(nr_zdarzenia="KMP/2025/03/00002", ulica="ul. Źródlana 3",
                                  kwalifikacja="art. 43^1 ust. 1 uwtpa")])
    assert path.read_bytes().count(b"\r\n") == 3 and "Ź".encode("cp1250") in path.read_bytes()
    parsed = police.parse(path)
    assert parsed.rows_read == 2 and parsed.rejects == []
    first, second = parsed.frame.to_dict("records")
    # X is the northing, Y the easting (Polish convention), decimal comma read as a point
    assert first["northing_x"] == pytest.approx(244210.55)
    assert first["easting_y"] == pytest.approx(566980.10)
    assert (first["legal_code"], first["article"], first["paragraph"]) == ("kk", "278", "1")
    assert second["street"] == "ul. Źródlana 3"
    assert (second["legal_code"], second["article"]) == ("uwtpa", "43^1") and pd.isna(second["paragraph"])
    # 21:15 in March is CET (UTC+1)
    assert first["occurred_at"] == pd.Timestamp("2025-03-14 20:15", tz="UTC")
    assert first["occurred_local"] == pd.Timestamp("2025-03-14 21:15")
    assert "opis" not in parsed.frame.columns  # free text lands only scrubbed
    assert first["note"] == "kradzież telefonu, " + SCRUBBED_NOTE
    # PUWG 1992 → WGS84: the point is on ul. Długa, north of the Rynek
    assert first["is_inside_city"] and first["latitude"] == pytest.approx(50.0614, abs=1e-3)
    assert first["longitude"] == pytest.approx(19.9361, abs=1e-3)


def test_summer_time_is_utc_plus_two(tmp_path: Path) -> None:
    f = police.parse(police_csv(tmp_path / "kmp_zdarzenia_2025-07.csv", [row(data="14.07.2025")])).frame
    assert f.loc[0, "occurred_at"] == pd.Timestamp("2025-07-14 19:15", tz="UTC")


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


# --------------------------------------------------------------------------- refusals

def test_utf8_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    ascii_only = {"opis": "kradziez", "ulica": "ul. Dluga 5", "kwalifikacja": "art. 51 kw"}
    rows = [row(nr_zdarzenia=f"id{i}", **ascii_only) for i in range(3)] + [
        row(nr_zdarzenia="x", **{**ascii_only, "ulica": "ul. Łokietka 1"})]
    e = refusal("police", police_csv(tmp_path / NAME, rows, encoding="utf-8"))
    assert e.rule == "encoding"
    assert e.line == 5  # Ł of the fourth record is the first byte above 0x7F
    assert "Windows-1250" in str(e) and "line 5" in str(e)


def test_utf8_byte_order_mark_is_refused(tmp_path: Path) -> None:
    path = police_csv(tmp_path / NAME, [row(opis="x", ulica="x")], encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    e = refusal("police", path)
    assert (e.rule, e.line) == ("encoding", 1) and "byte-order mark" in e.detail


def test_byte_undefined_in_cp1250_is_refused(tmp_path: Path) -> None:
    path = tmp_path / NAME
    police_csv(path, [row(), row(nr_zdarzenia="2")])
    data = path.read_bytes().replace(b"Dluga", b"").replace(b"ul. D", b"ul. \x98")
    path.write_bytes(data)
    e = refusal("police", path)
    assert (e.rule, e.line) == ("encoding", 2) and "0x98" in e.detail


@pytest.mark.parametrize("data", [b"", b" \r\n\r\n"])
def test_empty_file_is_refused(tmp_path: Path, data: bytes) -> None:
    (tmp_path / NAME).write_bytes(data)
    assert refusal("police", tmp_path / NAME).rule == "empty"


def test_missing_column_is_refused_naming_it(tmp_path: Path) -> None:
    header = [("x" if c == "x_puwg92" else c) for c in POLICE_HEADER]
    e = refusal("police", police_csv(tmp_path / NAME, [row()], header=header))
    assert (e.rule, e.column, e.line) == ("missing_column", "x_puwg92", 1)
    assert "column 'x_puwg92'" in str(e) and "unexpected column(s) ['x']" in e.detail


def test_extra_column_is_refused_naming_it(tmp_path: Path) -> None:
    e = refusal("police", police_csv(tmp_path / NAME, [[*row(), "1"]], header=[*POLICE_HEADER, "pesel"]))
    assert (e.rule, e.column, e.line) == ("unexpected_column", "pesel", 1)


def test_columns_in_another_order_are_read_by_name(tmp_path: Path) -> None:
    header = list(reversed(POLICE_HEADER))
    parsed = police.parse(police_csv(tmp_path / NAME, [list(reversed(row()))], header=header))
    assert parsed.rejects == [] and parsed.frame.loc[0, "northing_x"] == pytest.approx(244210.55)


def test_wrong_delimiter_is_refused(tmp_path: Path) -> None:
    rows = [row(opis="kradzież", x_puwg92="244210.55", y_puwg92="566980.10")]
    e = refusal("police", police_csv(tmp_path / NAME, rows, delimiter=","))
    assert (e.rule, e.line) == ("delimiter", 1) and "found ','" in e.detail


def test_truncated_file_is_refused_at_its_last_line(tmp_path: Path) -> None:
    path = police_csv(tmp_path / NAME, [row(nr_zdarzenia="1"), row(nr_zdarzenia="2"), row(nr_zdarzenia="3")[:4]],
                      final_newline=False)
    e = refusal("police", path)
    assert (e.rule, e.line) == ("truncated", 4) and "line 4" in str(e)


def test_broken_quoting_is_refused_naming_the_line(tmp_path: Path) -> None:
    e = refusal("police", police_csv(tmp_path / NAME, [row(), row(nr_zdarzenia="2", opis='"ucieczka" z miejsca')]))
    assert (e.rule, e.line) == ("csv_syntax", 3)


def test_broken_quoting_in_the_header_is_refused(tmp_path: Path) -> None:
    header = ['"nr_zdarzenia"x', *POLICE_HEADER[1:]]
    e = refusal("police", police_csv(tmp_path / NAME, [row()], header=header))
    assert (e.rule, e.line) == ("csv_syntax", 1)


# --------------------------------------------------------------------------- quarantine

def test_bad_rows_are_rejects_with_line_rule_column_and_raw_values(tmp_path: Path) -> None:
    path = police_csv(tmp_path / NAME, [
        row(nr_zdarzenia="1"),
        row(nr_zdarzenia="2", data="31.02.2025"),
        row(nr_zdarzenia="3", x_puwg92="abc"),
        row(nr_zdarzenia="1"),                       # same bytes as line 2
        row(nr_zdarzenia="5")[:5],                   # fields missing mid-file
        row(nr_zdarzenia="6", y_puwg92=" "),
        row(nr_zdarzenia="7", godzina="25:00"),
        row(nr_zdarzenia="8"),
    ])
    parsed = police.parse(path)
    got = {(r.line, r.rule, r.column) for r in parsed.rejects}
    assert got == {(3, "unparseable_datetime", "data"), (4, "unparseable_number", "x_puwg92"),
                   (5, "duplicate_row", None), (6, "field_count", None), (7, "missing_value", "y_puwg92"),
                   (8, "unparseable_datetime", "data")}
    dup = next(r for r in parsed.rejects if r.rule == "duplicate_row")
    assert dup.raw["nr_zdarzenia"] == "1" and "line 2" in dup.detail
    assert dup.raw["opis"] == "kradzież telefonu, " + SCRUBBED_NOTE  # kept scrubbed
    short = next(r for r in parsed.rejects if r.rule == "field_count")
    assert short.raw["fields"][0] == "5" and "5 fields, expected 8" in short.detail
    assert next(r for r in parsed.rejects if r.line == 4).raw["x_puwg92"] == "abc"
    assert list(parsed.frame["incident_id"]) == ["1", "8"] and list(parsed.frame["_line"]) == [2, 9]
    assert parsed.rows_read == 8


def test_file_name_gives_period_and_correction_number() -> None:
    m = police.SOURCE.match(Path("kmp_zdarzenia_2025-03_korekta2.csv"))
    assert (m.period_key, m.revision) == ("2025-03", 2)
    assert police.SOURCE.match(Path(NAME)) == police.SOURCE.match(Path(NAME)).__class__("2025-03", 0)
    for bad in ("kmp_zdarzenia_2025-13.csv", "kmp_zdarzenia_2025-03_korekta0.csv", "kmp_zdarzenia_2025-03.CSV",
                "kmp_zdarzenia_2025-3.csv", "zdarzenia_2025-03.csv"):
        with pytest.raises(RefusedDelivery) as e:
            police.SOURCE.match(Path(bad))
        assert e.value.rule == "file_name" and bad in str(e.value)


# --------------------------------------------------------------------------- Great Expectations row rules

def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    path = police_csv(tmp_path / NAME, [
        *police_rows(3),
        row(nr_zdarzenia="KMP/2025/03/00001", data="20.03.2025"),     # line 5: id seen on line 2
        row(nr_zdarzenia="KMP/2025/03/00009", kwalifikacja=" "),      # line 6: no qualification
        row(nr_zdarzenia="KMP/2025/03/00010", kwalifikacja="kradzież"),  # line 7: no code
        row(nr_zdarzenia="KMP/2025/03/00011", x_puwg92="566980,10", y_puwg92="244210,55"),  # 8: axes swapped
        row(nr_zdarzenia="KMP/2025/03/00012", y_puwg92="590000"),     # line 9: east of Kraków
        row(nr_zdarzenia="KMP/2025/03/00013", x_puwg92="234000", y_puwg92="557000"),  # 10: in the box, outside
        row(nr_zdarzenia=" "),                                        # line 11: no id
    ])
    parsed = police.parse(path)
    assert parsed.rejects == []
    [found] = row_rules("police", parsed)
    # GX flags every holder of a repeated id, the first one too: neither is trusted
    assert found[2] == found[5] == ("incident_id_unique", "incident_id")
    assert found[6] == ("qualification_required", "legal_qualification")
    assert found[7] == ("qualification_format", "legal_code")
    assert found[8][0] in {"x_northing_in_krakow", "y_easting_in_krakow"}
    assert found[9] == ("y_easting_in_krakow", "easting_y")
    assert found[10] == ("inside_city", "is_inside_city")
    assert found[11] == ("incident_id_required", "incident_id")
    assert set(found) == {2, 5, 6, 7, 8, 9, 10, 11}
