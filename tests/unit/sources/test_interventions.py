"""The interventions parser reads exactly SPEC §3: UTF-8, ``;``, times with offsets, operators pseudonymised."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingestion import privacy
from ingestion.core import RefusedDelivery
from ingestion.sources import interventions
from ingestion.sources.interventions import COLUMNS_IN_FILE as HEADER
from tests.builders import SCRUBBED_NOTE, interventions_csv, interventions_row, interventions_rows, refusal

pytestmark = pytest.mark.unit
NAME = "interwencje_2025-10-26.csv"
row = interventions_row


def test_reads_offsets_codes_and_keeps_nothing_personal(tmp_path: Path) -> None:
    path = interventions_csv(tmp_path / NAME, [
        row(id_interwencji="A", data_zdarzenia="2025-10-26T02:30:00+02:00"),   # first 02:30 (CEST)
        row(id_interwencji="B", data_zdarzenia="2025-10-26T02:30:00+01:00", kategoria="inne",   # second (CET)
            sposob_zalatwienia="bez dalszych działań", opis='zgłoszenie; "cytat"; a;b', operator="SM0042"),
        row(id_interwencji="C", kategoria="impreza masowa / zgromadzenie", opis=""),
    ])
    assert b'"zg\xc5\x82oszenie; ""cytat""; a;b"' in path.read_bytes()  # quoted as pandas does
    parsed = interventions.parse(path)
    assert parsed.rejects == []
    a, b, c = parsed.frame.to_dict("records")
    assert a["occurred_at"] == pd.Timestamp("2025-10-26 00:30", tz="UTC") and a["utc_offset_minutes"] == 120
    assert b["occurred_at"] == pd.Timestamp("2025-10-26 01:30", tz="UTC") and b["utc_offset_minutes"] == 60
    assert a["occurred_local"] == b["occurred_local"] == pd.Timestamp("2025-10-26 02:30")
    assert (a["category_code"], a["category_label"], a["outcome_code"]) == ("alcohol", "alkohol", "fine")
    assert (b["category_code"], b["outcome_code"]) == ("other", "no_further_action")
    assert c["category_code"] == "mass_event_or_assembly" and pd.isna(c["note"])
    assert b["note"] == 'zgłoszenie; "cytat"; a;b'
    assert a["note"] == "spożywanie alkoholu przy sklepie; " + SCRUBBED_NOTE
    # operators: a keyed pseudonym, stable per person, different between people, never the number
    key = interventions._key()
    assert a["operator_pseudonym"] == privacy.pseudonymise("SM1234", key, prefix="op")
    assert a["operator_pseudonym"] == c["operator_pseudonym"] != b["operator_pseudonym"]
    assert all("1234" not in str(v) for v in parsed.frame.to_dict("records")[0].values())
    assert parsed.raw[2]["operator"] == a["operator_pseudonym"] and "Nowak" not in parsed.raw[2]["opis"]


def test_unknown_category_is_kept_for_the_suite(tmp_path: Path) -> None:
    parsed = interventions.parse(interventions_csv(tmp_path / NAME, [row(kategoria="kradzież")]))
    assert parsed.rejects == [] and pd.isna(parsed.frame.loc[0, "category_code"])


def test_bad_rows_become_rejects(tmp_path: Path) -> None:
    rows = interventions_rows(8)
    rows[1] = row(id_interwencji="2", data_zdarzenia="26.10.2025 10:00")
    rows[2] = row(id_interwencji="3", data_zdarzenia="2025-10-26T10:00:00")
    rows[3] = row(id_interwencji="4", sposob_zalatwienia="areszt")
    rows[4] = rows[0]
    rows[5] = rows[5][:3]
    parsed = interventions.parse(interventions_csv(tmp_path / NAME, rows))
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (3, "unparseable_timestamp", "data_zdarzenia"), (4, "timestamp_without_offset", "data_zdarzenia"),
        (5, "unknown_code", "sposob_zalatwienia"), (6, "duplicate_row", None), (7, "field_count", None)}
    reject = next(r for r in parsed.rejects if r.line == 5)
    assert reject.raw["sposob_zalatwienia"] == "areszt" and reject.raw["operator"].startswith("op-")
    assert "SM1234" not in str([r.raw for r in parsed.rejects])  # no operator number in quarantine
    assert list(parsed.frame["_line"]) == [2, 8, 9]


def test_refusals(tmp_path: Path) -> None:
    path = tmp_path / NAME
    e = refusal("interventions", interventions_csv(path, interventions_rows(3), encoding="cp1250"))
    assert (e.rule, e.line) == ("encoding", 2) and "utf-8" in e.detail
    e = refusal("interventions", interventions_csv(path, interventions_rows(2), delimiter=","))
    assert (e.rule, e.line) == ("delimiter", 1)
    e = refusal("interventions", interventions_csv(path, interventions_rows(2), header=[*HEADER[:-1], "operator_id"]))
    assert (e.rule, e.column) == ("missing_column", "operator")
    e = refusal("interventions", interventions_csv(path, [[*r, "x"] for r in interventions_rows(2)],
                                                   header=[*HEADER, "telefon"]))
    assert (e.rule, e.column) == ("unexpected_column", "telefon")
    rows = interventions_rows(3)
    rows[-1] = rows[-1][:2]
    e = refusal("interventions", interventions_csv(path, rows, final_newline=False))
    assert (e.rule, e.line) == ("truncated", 4)
    path.write_bytes(b"")
    assert refusal("interventions", path).rule == "empty"
    path.write_bytes(b"\xef\xbb\xbf")  # a byte-order mark and nothing else
    e = refusal("interventions", path)
    assert (e.rule, e.line) == ("empty", 1)
    path.write_bytes(";".join(HEADER).encode() + b'\nA;"2025-10-26T10:00:00+01:00"x;W;k;s;o;op\n')
    e = refusal("interventions", path)
    assert (e.rule, e.line) == ("csv_syntax", 2)


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = interventions_csv(tmp_path / NAME, interventions_rows(1))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(interventions.parse(path).frame) == 1


def test_file_name_gives_the_day() -> None:
    assert interventions.SOURCE.match(Path(NAME)).period_key == "2025-10-26"
    with pytest.raises(RefusedDelivery) as e:
        interventions.SOURCE.match(Path("interwencje_2025-10.csv"))
    assert e.value.rule == "file_name"


def test_impossible_day_in_the_name_is_refused() -> None:
    with pytest.raises(RefusedDelivery) as e:
        interventions.SOURCE.match(Path("interwencje_2025-13-45.csv"))
    assert e.value.rule == "impossible_date" and "'2025-13-45'" in e.value.detail
    assert interventions.SOURCE.match(Path("interwencje_2024-02-29.csv")).period_key == "2024-02-29"  # a leap day
    with pytest.raises(RefusedDelivery):
        interventions.SOURCE.match(Path("interwencje_2025-02-29.csv"))


def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    rows = interventions_rows(6)
    rows[1] = row(id_interwencji=rows[0][0], opis="inny opis")    # line 3: id again
    rows[2] = row(id_interwencji="C", kategoria="kradzież")       # line 4
    rows[3] = row(id_interwencji="D", nr_punktu="KAM-1")          # line 5
    rows[4] = row(id_interwencji=" ")                             # line 6
    [found] = row_rules("interventions", interventions.parse(interventions_csv(tmp_path / NAME, rows)))
    assert found == {2: ("intervention_id_unique", "intervention_id"), 3: ("intervention_id_unique", "intervention_id"),
                     4: ("kategoria_code", "category_code"), 5: ("camera_point_id_format", "camera_point_id"),
                     6: ("intervention_id_required", "intervention_id")}


def test_a_period_in_the_future_is_refused() -> None:
    """A day after tomorrow (by the platform's clock) is a wrong name, not data."""
    import datetime as dt

    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%d")
    with pytest.raises(RefusedDelivery) as e:
        interventions.SOURCE.match(Path(f"interwencje_{ahead}.csv"))
    assert e.value.rule == "period_in_future" and ahead in e.value.detail
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert interventions.SOURCE.match(Path(f"interwencje_{today}.csv")).period_key == today
