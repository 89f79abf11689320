"""The ANPR parser reads exactly SPEC §9 and refuses, whole, any delivery carrying licence plates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import anpr_counts
from ingestion.sources.anpr_counts import COLUMNS_IN_FILE as HEADER
from tests.builders import anpr_csv, anpr_row, anpr_rows, refusal

pytestmark = pytest.mark.unit
NAME = "anpr_2025-10-26.csv"
row = anpr_row


def test_reads_hours_with_offsets_across_the_autumn_fold(tmp_path: Path) -> None:
    path = anpr_csv(tmp_path / NAME, [
        row(godzina_od="2025-10-26T02:00:00+02:00", liczba_odczytow="40", liczba_unikalnych="35"),
        row(godzina_od="2025-10-26T02:00:00+01:00", liczba_odczytow="38", liczba_unikalnych="30"),
        row(godzina_od="2025-10-26T03:00:00+01:00", liczba_odczytow="0", liczba_unikalnych="0"),
    ])
    parsed = anpr_counts.parse(path)
    assert parsed.rejects == []
    f = parsed.frame
    assert list(f["hour_start_at"]) == [pd.Timestamp(f"2025-10-26 0{h}:00", tz="UTC") for h in (0, 1, 2)]
    assert f.loc[0, "hour_start_local"] == f.loc[1, "hour_start_local"] == pd.Timestamp("2025-10-26 02:00")
    assert list(f["reads"]) == [40, 38, 0] and list(f["distinct_vehicles"]) == [35, 30, 0]
    assert f["reads"].dtype.kind == "i" and set(f["camera_id"]) == {"ZDMK-ANPR-0001"}


@pytest.mark.parametrize("cell", ["KR 4F123", "KRA12345"])
def test_a_plate_in_any_value_refuses_the_delivery(tmp_path: Path, cell: str) -> None:
    rows = anpr_rows(3)
    rows[2] = row(kamera_id=cell)
    e = refusal("anpr_counts", anpr_csv(tmp_path / NAME, rows))
    assert (e.rule, e.line, e.column) == ("licence_plates", 4, "#1")
    assert "line 4" in str(e) and "Police" in e.detail


def test_a_plate_column_refuses_the_delivery_even_if_empty(tmp_path: Path) -> None:
    rows = [[*r, ""] for r in anpr_rows(2)]
    e = refusal("anpr_counts", anpr_csv(tmp_path / NAME, rows, header=[*HEADER, "nr_rej"]))
    assert (e.rule, e.line, e.column) == ("licence_plates", 1, "#5")


def test_bad_rows_become_rejects(tmp_path: Path) -> None:
    rows = anpr_rows(8)
    rows[1] = row(godzina_od="26.10.2025 01:00")
    rows[2] = row(godzina_od="2025-10-26T02:00:00")
    rows[3] = row(godzina_od="2025-10-26T03:00:00+01:00", liczba_odczytow="")
    rows[4] = row(godzina_od="2025-10-26T04:00:00+01:00", liczba_unikalnych="12,5")
    rows[5] = rows[0]
    rows[6] = rows[6][:2]
    parsed = anpr_counts.parse(anpr_csv(tmp_path / NAME, rows))
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (3, "unparseable_timestamp", "godzina_od"), (4, "timestamp_without_offset", "godzina_od"),
        (5, "missing_value", "liczba_odczytow"), (6, "unparseable_number", "liczba_unikalnych"),
        (7, "duplicate_row", None), (8, "field_count", None)}
    assert list(parsed.frame["_line"]) == [2, 9]


def test_refusals(tmp_path: Path) -> None:
    path = tmp_path / NAME
    e = refusal("anpr_counts", anpr_csv(path, anpr_rows(2), delimiter=","))
    assert (e.rule, e.line) == ("delimiter", 1)
    e = refusal("anpr_counts", anpr_csv(path, anpr_rows(2), header=["kamera", *HEADER[1:]]))
    assert (e.rule, e.column) == ("missing_column", "kamera_id")
    e = refusal("anpr_counts", anpr_csv(path, [[*r, "1"] for r in anpr_rows(2)], header=[*HEADER, "pas_ruchu"]))
    assert (e.rule, e.column) == ("unexpected_column", "pas_ruchu")
    rows = anpr_rows(3)
    rows[-1] = rows[-1][:2]
    assert refusal("anpr_counts", anpr_csv(path, rows, final_newline=False)).rule == "truncated"
    path.write_bytes(";".join(HEADER).encode() + b"\nZDMK-ANPR-0001;2025-10-26T00:00:00+02:00;1;1\n"
                     b'"ZDMK"x;2025-10-26T01:00:00+02:00;1;1\n')
    e = refusal("anpr_counts", path)
    assert (e.rule, e.line) == ("csv_syntax", 3)
    path.write_bytes(";".join(HEADER).encode() + b"\nZDMK-ANPR-\xe91;x;1;1\n")
    assert (refusal("anpr_counts", path).rule, refusal("anpr_counts", path).line) == ("encoding", 2)
    path.write_bytes(b"")
    assert refusal("anpr_counts", path).rule == "empty"


def test_file_name_gives_the_day() -> None:
    assert anpr_counts.SOURCE.match(Path(NAME)).period_key == "2025-10-26"
    with pytest.raises(RefusedDelivery) as e:
        anpr_counts.SOURCE.match(Path("anpr_2025-10-26_korekta1.csv"))
    assert e.value.rule == "file_name"


def test_impossible_day_in_the_name_is_refused() -> None:
    with pytest.raises(RefusedDelivery):
        anpr_counts.SOURCE.match(Path("anpr_2025-02-30.csv"))


def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    rows = anpr_rows(6)
    rows[1] = row(godzina_od=rows[0][1], liczba_odczytow="7", liczba_unikalnych="7")       # line 3: same hour
    rows[2] = row(kamera_id="ZDMK-UTCS-0001", godzina_od="2025-10-26T05:00:00+01:00")       # line 4
    rows[3] = row(godzina_od="2025-10-26T06:00:00+01:00", liczba_odczytow="-1", liczba_unikalnych="-5")  # 5
    rows[4] = row(godzina_od="2025-10-26T07:00:00+01:00", liczba_odczytow="5", liczba_unikalnych="6")    # 6
    [found] = row_rules("anpr_counts", anpr_counts.parse(anpr_csv(tmp_path / NAME, rows)))
    assert found == {2: ("one_row_per_camera_hour", "camera_id"), 3: ("one_row_per_camera_hour", "camera_id"),
                     4: ("camera_id_format", "camera_id"), 5: ("reads_not_negative", "reads"),
                     6: ("distinct_not_above_reads", "reads")}
