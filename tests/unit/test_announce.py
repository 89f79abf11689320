"""Announced deliveries (REST extra, Redis message, streamed SOS events) become claims."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion import announce, inbox
from ingestion.config import Settings

pytestmark = pytest.mark.unit


def _sos(event_id: str, pressed_at: str, classification: str = "unconfirmed") -> dict:
    return {"event_id": event_id, "point_id": "SOS-01", "pressed_at": pressed_at, "call_duration_s": 30,
            "classification": classification, "camera_point": "WBZK-0001", "operator_note": ""}


def _redis(body: object) -> dict:
    data = body if isinstance(body, str) else json.dumps(body)
    return {"from_trigger": True, "payload": {"type": "message", "channel": "ksp:deliveries:sos_alerts",
                                              "data": data, "pattern": None}}


def test_rest_path_is_copied_into_a_claim_and_the_sender_keeps_its_file(cfg: Settings, tmp_path: Path) -> None:
    export = tmp_path / "export" / "interwencje_2025-03-01.csv"
    export.parent.mkdir()
    export.write_text("id_interwencji;x\n")
    [claimed] = announce.accept(cfg, "interventions", [{"path": str(export)}])
    assert claimed.parent.parent == cfg.received_dir / "interventions"
    assert claimed.read_bytes() == export.read_bytes() and export.exists()
    assert inbox.pending(cfg.received_dir / "interventions") == [claimed]
    # a file:// URI works the same
    [again] = announce.accept(cfg, "interventions", [{"path": export.as_uri()}])
    assert again.name == export.name


def test_the_inbox_watchers_own_events_are_not_claimed_twice(cfg: Settings) -> None:
    watcher_extra = {"from_trigger": True, "payload": {"source": "police", "file": "x.csv", "path": "/r/x.csv"}}
    assert announce.accept(cfg, "police", [watcher_extra, {}]) == []


def test_streamed_sos_events_gather_per_hour_in_order(cfg: Settings) -> None:
    first = announce.accept(cfg, "sos_alerts", [_redis(_sos("E2", "2025-10-26T02:40:00+01:00"))])
    second = announce.accept(cfg, "sos_alerts", [_redis(_sos("E1", "2025-10-26T02:10:00+01:00")),
                                                 _redis(_sos("E2", "2025-10-26T02:40:00+01:00"))])
    assert [p.name for p in first + second] == ["sos_2025-10-26T02.jsonl"] * 3
    hour = [json.loads(line)["event_id"] for line in second[-1].read_text().splitlines()]
    assert hour == ["E1", "E2"]  # sorted by the press, the repeated E2 kept once
    # every copy names the same hour, so the latest supersedes the earlier ones in the ledger
    assert (cfg.stream_dir / "sos_alerts" / "sos_2025-10-26T02.jsonl").exists()


def test_bad_announcements_are_kept_with_their_reason_and_do_not_block_others(cfg: Settings,
                                                                             tmp_path: Path) -> None:
    good = tmp_path / "sos_2025-01-01T10.jsonl"
    good.write_text(json.dumps(_sos("E9", "2025-01-01T10:00:00+01:00")) + "\n")
    claimed = announce.accept(cfg, "sos_alerts", [
        _redis("not json"),
        {"path": str(tmp_path / "missing.jsonl")},
        _redis(_sos("E3", "yesterday")),
        {"path": str(good)},
    ])
    assert [p.name for p in claimed] == [good.name]
    reasons = [json.loads(line)["reason"] for line in
               (cfg.refused_dir / "sos_alerts" / "announcements.jsonl").read_text().splitlines()]
    assert len(reasons) == 3
    assert "neither 'path' nor an SOS event" in reasons[0]
    assert "does not exist" in reasons[1]
    assert "pressed_at 'yesterday'" in reasons[2]


def test_only_sos_alerts_stream_single_events(cfg: Settings) -> None:
    assert announce.accept(cfg, "police", [_redis(_sos("E1", "2025-01-01T10:00:00+01:00"))]) == []
