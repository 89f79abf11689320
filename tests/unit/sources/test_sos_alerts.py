"""The SOS parser reads exactly SPEC §8: JSON Lines, one event per line, times with offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import sos_alerts
from tests.builders import SCRUBBED_NOTE, refusal, sos_event, sos_events, sos_jsonl

pytestmark = pytest.mark.unit
NAME = "sos_2026-02-01T10.jsonl"


def test_reads_events_with_offsets_and_scrubs_the_note(tmp_path: Path) -> None:
    path = sos_jsonl(tmp_path / NAME, [*sos_events(2), "", sos_event(
        event_id="E-summer", pressed_at="2026-02-01T10:59:59+02:00", call_duration_s="0",
        classification="confirmed_health_life", operator_note=None)])
    parsed = sos_alerts.parse(path)
    assert parsed.rejects == [] and parsed.rows_read == 3
    # landed sorted by the time pressed: the third line's event (08:59:59 UTC) comes first
    assert list(parsed.frame["_line"]) == [4, 1, 2]
    first, _, third = sorted(parsed.frame.to_dict("records"), key=lambda r: r["_line"])
    assert first["pressed_at"] == pd.Timestamp("2026-02-01 09:00", tz="UTC")
    assert first["pressed_local"] == pd.Timestamp("2026-02-01 10:00")
    assert (first["point_id"], first["camera_point_id"], first["classification"]) == (
        "SOS-01", "WBZK-0001", "confirmed_other")
    assert first["note"] == "rozmowa ze zgłaszającym; " + SCRUBBED_NOTE
    assert parsed.raw[1]["operator_note"] == "rozmowa ze zgłaszającym; " + SCRUBBED_NOTE
    assert third["_line"] == 4  # the blank line still counts
    assert third["pressed_at"] == pd.Timestamp("2026-02-01 08:59:59", tz="UTC") and third["call_duration_s"] == 0
    assert pd.isna(third["note"])


def test_out_of_order_events_are_flagged_and_landed_sorted(tmp_path: Path) -> None:
    first, second = sos_events(2)
    parsed = sos_alerts.parse(sos_jsonl(tmp_path / NAME, [second, first]))
    assert parsed.rejects == []
    # sorted by the time pressed; the event that came after a later one keeps the flag
    assert list(parsed.frame["_line"]) == [2, 1]
    assert list(parsed.frame["is_in_order"]) == [False, True]


def test_bad_events_become_rejects(tmp_path: Path) -> None:
    ok = sos_events(9)
    path = sos_jsonl(tmp_path / NAME, [
        ok[0],
        "{not json",                                                    # line 2
        "[1, 2]",                                                       # 3
        ok[0],                                                          # 4: same event again
        sos_event(event_id="e5", pressed_at="01.02.2026 10:05"),        # 5
        sos_event(event_id="e6", pressed_at="2026-02-01T10:06:00"),     # 6: no offset
        sos_event(event_id="e7", call_duration_s=None),                 # 7
        sos_event(event_id="e8", call_duration_s="długo"),              # 8
        sos_event(event_id="e9", classification="false_alarm"),         # 9
        ok[8],
    ])
    parsed = sos_alerts.parse(path)
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (2, "field_count", None), (3, "field_count", None), (4, "duplicate_row", None),
        (5, "unparseable_timestamp", "pressed_at"), (6, "timestamp_without_offset", "pressed_at"),
        (7, "missing_value", "call_duration_s"), (8, "unparseable_number", "call_duration_s"),
        (9, "unknown_code", "classification")}
    assert next(r for r in parsed.rejects if r.line == 2).raw == {"fields": ["{not json"]}
    assert next(r for r in parsed.rejects if r.line == 9).raw["operator_note"] == "rozmowa ze zgłaszającym; " \
        + SCRUBBED_NOTE
    assert list(parsed.frame["_line"]) == [1, 10]


def test_refusals(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(json.dumps(sos_event(operator_note="Łukasz"), ensure_ascii=False).encode("utf-8").replace(
        "Ł".encode(), "Ł".encode("cp1250")) + b"\n")
    assert refusal("sos_alerts", path).rule == "encoding"
    for blank in (b"", b"\n \n"):
        path.write_bytes(blank)
        assert refusal("sos_alerts", path).rule == "empty"
    sos_jsonl(path, [{"id": "x", "time": "2026-02-01T10:00:00+01:00"}, sos_event()])
    e = refusal("sos_alerts", path)
    assert (e.rule, e.line) == ("missing_column", 1)


def test_file_name_gives_the_hour() -> None:
    assert sos_alerts.SOURCE.match(Path(NAME)).period_key == "2026-02-01T10"
    with pytest.raises(RefusedDelivery) as e:
        sos_alerts.SOURCE.match(Path("sos_2026-02-01.jsonl"))
    assert e.value.rule == "file_name"


def test_impossible_hour_in_the_name_is_refused() -> None:
    with pytest.raises(RefusedDelivery):
        sos_alerts.SOURCE.match(Path("sos_2026-02-01T99.jsonl"))


def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    ok = sos_events(6)
    path = sos_jsonl(tmp_path / NAME, [
        ok[0], ok[1], {**ok[2], "event_id": ok[0]["event_id"]}, {**ok[3], "point_id": "SOS-1"},
        {**ok[4], "call_duration_s": -3}, ok[5],
    ])
    parsed = sos_alerts.parse(path)
    [found] = row_rules("sos_alerts", parsed)
    assert found == {1: ("event_id_unique", "event_id"), 3: ("event_id_unique", "event_id"),
                     4: ("point_id_format", "point_id"), 5: ("call_duration_not_negative", "call_duration_s")}


def test_events_in_any_order_are_all_kept(tmp_path: Path, row_rules) -> None:
    """SPEC §'What happens': events of an SOS file may come in any order; they are landed sorted."""
    a, b, c = sos_events(3)
    [found] = row_rules("sos_alerts", sos_alerts.parse(sos_jsonl(tmp_path / NAME, [a, c, b])))
    assert found == {}
