"""The survey parser reads exactly SPEC §4: an SPSS ``.sav`` (or the same variables as UTF-8 CSV)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingestion.config import REPO_ROOT
from ingestion.core import RefusedDelivery
from ingestion.sources import survey
from ingestion.sources.survey import VARIABLES
from ingestion.validation import validate_file_rules
from tests.builders import refusal, survey_csv, survey_rows, survey_sav

pytestmark = pytest.mark.unit
NAME = "ankieta_2025_wiosna"


@pytest.mark.parametrize("write", [survey_sav, survey_csv], ids=["sav", "csv"])
def test_reads_both_formats_to_the_same_typed_rows(tmp_path: Path, write) -> None:
    rows = survey_rows(3)
    rows[1] |= {"plec": 9, "q1_bezp_dzien": 9, "waga": 0.8731, "m2_lat": 50.07, "m2_lon": 19.95, "m2_powod": 7}
    parsed = survey.parse(write(tmp_path / f"{NAME}.{'sav' if write is survey_sav else 'csv'}", rows))
    assert parsed.rejects == [] and parsed.rows_read == 3
    first, second, _ = parsed.frame.to_dict("records")
    assert (first["wave"], first["expected_wave"], first["respondent_id"], first["district_id"]) == (
        "2025W", "2025W", 1, 1)
    assert (first["q1_safe_day"], first["q6_trust_police"], first["q7_knows_cameras"]) == (4, 5, 1)
    assert (first["m1_latitude"], first["m1_reason"]) == (50.0614, 1) and pd.isna(first["m2_latitude"])
    assert (second["sex_code"], second["q1_safe_day"], second["weight"]) == (9, 9, 0.8731)
    assert (second["district_id"], second["m2_reason"]) == (2, 7)
    assert parsed.raw[2]["m3_lat"] is None  # blanks kept as nulls in quarantine


def test_bad_rows_become_rejects(tmp_path: Path) -> None:
    rows = survey_rows(9)
    rows[1]["plec"] = 3
    rows[2]["dzielnica"] = 19
    rows[3]["q2_bezp_noc"] = 6
    rows[4]["m1_powod"] = 8
    rows[5]["waga"] = "abc"
    rows[6]["resp_id"] = 7.5
    rows[7]["fala"] = ""
    rows[8] = dict(rows[0])
    parsed = survey.parse(survey_csv(tmp_path / f"{NAME}.csv", rows))
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (3, "unknown_code", "plec"), (4, "unknown_code", "dzielnica"), (5, "unknown_code", "q2_bezp_noc"),
        (6, "unknown_code", "m1_powod"), (7, "unparseable_number", "waga"), (8, "unparseable_number", "resp_id"),
        (9, "missing_value", "fala"), (10, "duplicate_row", None)}
    assert list(parsed.frame["_line"]) == [2]


def test_refusals(tmp_path: Path) -> None:
    csv_path = tmp_path / f"{NAME}.csv"
    sav_path = tmp_path / f"{NAME}.sav"
    sav_path.write_bytes(survey_csv(csv_path, survey_rows(2)).read_bytes())
    assert refusal("survey", sav_path).rule == "not_sav"
    assert refusal("survey", survey_csv(csv_path, survey_rows(2), header=VARIABLES[:-1])).column == "m3_powod"
    e = refusal("survey", survey_csv(csv_path, [r | {"imie": "Jan"} for r in survey_rows(2)],
                                     header=[*VARIABLES, "imie"]))
    assert (e.rule, e.column, e.line) == ("unexpected_column", "imie", 1)
    e = refusal("survey", survey_csv(csv_path, survey_rows(2), header=[*VARIABLES[:-1], " resp_id"]))
    assert (e.rule, e.line) == ("duplicate_column", 1)
    e = refusal("survey", survey_csv(csv_path, survey_rows(2), delimiter=";"))
    assert (e.rule, e.column) == ("missing_column", "resp_id")  # one long variable: none of the SPEC's
    csv_path.write_bytes(",".join(VARIABLES).encode() + b"\n1,2025W,\xb3\n")
    assert refusal("survey", csv_path).rule == "encoding"
    csv_path.write_bytes(b"")
    assert refusal("survey", csv_path).rule == "csv_syntax"
    rows = [[str(v) for v in r.values()] for r in survey_rows(3)]
    csv_path.write_bytes(",".join(VARIABLES).encode() + b"\n" + b"\n".join(
        ",".join(r).encode() for r in [rows[0], rows[1] + ["x"], rows[2]]) + b"\n")
    e = refusal("survey", csv_path)
    assert e.rule == "csv_syntax" and "Expected 22 fields in line 3, saw 23" in e.detail


def test_a_csv_cut_short_is_refused(tmp_path: Path) -> None:
    path = survey_csv(tmp_path / f"{NAME}.csv", survey_rows(3))
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\n3.0,2025W,3.0,1.0") + len(b"\n3.0,2025W,3.0,1.0")])
    refused = refusal("survey", path)
    assert refused.rule == "truncated" and refused.line == 4
    # a whole file without its final line end is no cut
    whole = survey_csv(tmp_path / f"{NAME}.csv", survey_rows(3))
    whole.write_bytes(whole.read_bytes().rstrip(b"\r\n"))
    assert len(survey.parse(whole).frame) == 3


def test_file_name_gives_the_wave() -> None:
    assert survey.SOURCE.match(Path("ankieta_2025_jesien.sav")).period_key == "2025J"
    assert survey.SOURCE.match(Path("ankieta_2025_wiosna.csv")).period_key == "2025W"
    for bad in ("ankieta_2025_lato.sav", "ankieta_2025_wiosna.xlsx", "ankieta_25_wiosna.sav"):
        with pytest.raises(RefusedDelivery) as e:
            survey.SOURCE.match(Path(bad))
        assert e.value.rule == "file_name"


def test_file_rules_refuse_a_small_wave_or_a_missing_district(tmp_path: Path) -> None:
    def check(rows: list[dict]) -> None:
        parsed = survey.parse(survey_csv(tmp_path / f"{NAME}.csv", rows))
        validate_file_rules(parsed, source="survey", file=f"{NAME}.csv", expectations_dir=REPO_ROOT / "expectations")

    check(survey_rows(1800))  # a full wave passes
    with pytest.raises(RefusedDelivery) as e:
        check(survey_rows(1200))
    assert e.value.rule == "wave_size" and "observed 1200" in e.value.detail
    with pytest.raises(RefusedDelivery) as e:
        check([r for r in survey_rows(1800) if r["dzielnica"] != 7])
    assert e.value.rule == "all_districts" and e.value.column == "district_id"
    # the district column retyped (names where codes belong): every row is rejected by the
    # parser, and the refusal names that column, not only "observed 0"
    with pytest.raises(RefusedDelivery) as e:
        check([{**r, "dzielnica": f"Dzielnica {r['dzielnica']}"} for r in survey_rows(1800)])
    assert e.value.rule == "wave_size" and "observed 0" in e.value.detail
    assert e.value.column == "dzielnica" and "1800 of them for column 'dzielnica'" in e.value.detail, e.value.detail
    assert "column 'dzielnica'" in str(e.value)


def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    rows = survey_rows(7)
    rows[1]["resp_id"] = 1                    # line 3: id of line 2
    rows[2]["dzielnica"] = None               # line 4
    rows[3]["waga"] = 0.0                     # line 5
    rows[4]["fala"] = "2025J"                 # line 6: autumn answers in a spring file
    rows[5]["m1_lat"] = 52.23                 # line 7: Warsaw
    [found] = row_rules("survey", survey.parse(survey_csv(tmp_path / f"{NAME}.csv", rows)))
    assert found == {2: ("respondent_id_unique", "respondent_id"), 3: ("respondent_id_unique", "respondent_id"),
                     4: ("district_required", "district_id"), 5: ("weight_positive", "weight"),
                     6: ("wave_matches_file_name", "wave"), 7: ("marked_place_in_krakow", "m1_latitude")}
