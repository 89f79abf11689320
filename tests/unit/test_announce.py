"""Announced deliveries (REST extra, Redis message, streamed SOS events) become claims."""

from __future__ import annotations

import dataclasses
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


def test_rest_path_is_copied_into_a_claim_and_the_sender_keeps_its_file(cfg: Settings) -> None:
    export = cfg.data_dir / "exports" / "interwencje_2025-03-01.csv"  # a default delivery root
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


def test_bad_announcements_are_kept_with_their_reason_and_do_not_block_others(cfg: Settings) -> None:
    exports = cfg.data_dir / "exports"
    exports.mkdir()
    good = exports / "sos_2025-01-01T10.jsonl"
    good.write_text(json.dumps(_sos("E9", "2025-01-01T10:00:00+01:00")) + "\n")
    claimed = announce.accept(cfg, "sos_alerts", [
        _redis("not json"),
        {"path": str(exports / "missing.jsonl")},
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


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def _reasons(cfg: Settings, source: str) -> list[str]:
    kept = cfg.refused_dir / source / "announcements.jsonl"
    return [json.loads(line)["reason"] for line in kept.read_text().splitlines()]


def test_an_announced_file_outside_the_delivery_roots_is_refused_and_nothing_copied(cfg: Settings,
                                                                                  tmp_path: Path) -> None:
    key = cfg.pseudonym_key_path
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_bytes(b"secret pseudonym key")
    elsewhere = tmp_path / "home" / "interwencje_2025-03-01.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text("id_interwencji;x\n")
    before = _files(tmp_path)
    claimed = announce.accept(cfg, "interventions", [
        {"path": str(key)},  # REST
        {"path": key.as_uri()},
        _redis({"path": str(elsewhere)}),  # Redis
        {"path": str(tmp_path / "home" / "missing.csv")},  # outside: not even said whether it exists
    ])
    assert claimed == []
    assert _files(tmp_path) - before == {cfg.refused_dir / "interventions" / "announcements.jsonl"}
    assert [p for p in _files(cfg.data_dir) if p.read_bytes() == key.read_bytes()] == [key]
    reasons = _reasons(cfg, "interventions")
    assert len(reasons) == 4 and all("outside the delivery roots" in r and "not copied" in r for r in reasons)

    # roots set too wide (the whole data folder) still never reach the platform's own stores
    wide = dataclasses.replace(cfg, delivery_roots=(cfg.data_dir,))
    assert announce.accept(wide, "interventions", [{"path": str(key)}]) == []
    assert "inside the platform's own" in _reasons(cfg, "interventions")[-1]
    assert inbox.pending(cfg.received_dir / "interventions") == []


def test_a_path_inside_the_roots_that_escapes_them_is_refused(cfg: Settings, tmp_path: Path) -> None:
    key = cfg.pseudonym_key_path
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_bytes(b"secret pseudonym key")
    exports = cfg.data_dir / "exports"
    exports.mkdir()
    (exports / "interwencje_2025-03-01.csv").symlink_to(key)  # a link inside a root, pointing out
    (cfg.inbox_dir / "interventions").mkdir()
    before = _files(tmp_path)
    claimed = announce.accept(cfg, "interventions", [
        {"path": f"{exports}/../ops/pseudonym.key"},
        {"path": f"{cfg.inbox_dir}/interventions/../../ops/{key.name}"},
        {"path": str(exports / "interwencje_2025-03-01.csv")},
        {"path": "exports/interwencje_2025-03-01.csv"},  # relative: to whose working folder?
        {"path": f"{exports}/interwencje_2025-03-01.csv\n"},
    ])
    assert claimed == []
    assert _files(tmp_path) - before == {cfg.refused_dir / "interventions" / "announcements.jsonl"}
    reasons = _reasons(cfg, "interventions")
    assert all("outside the delivery roots" in r for r in reasons[:3]), reasons
    assert "not absolute" in reasons[3] and "control character" in reasons[4]

    # a link that stays inside the roots is fine: its target's bytes and name are claimed
    real = exports / "interwencje_2025-03-02.csv"
    real.write_text("id_interwencji;x\n")
    (exports / "latest.csv").symlink_to(real)
    [ok] = announce.accept(cfg, "interventions", [{"path": str(exports / "latest.csv")}])
    assert ok.name == real.name and ok.read_bytes() == real.read_bytes()


@pytest.mark.parametrize("pressed_at", [
    "/../../../Tab",
    "2025-01-01T10/../../../Tab",
    "../../2025-01-01T10:00:00+01:00",
    "2025-01-01T1\u0661:00:00+01:00",  # an Arabic-Indic digit
    "2025-13-45T10:00:00+01:00",
    "2025-01-01T10:00:00+01:00\x00",
    "2025-01-01T10:00:00",  # no offset
    None,
])
def test_an_sos_event_whose_pressed_at_cannot_name_an_hour_file_is_refused_and_never_written(
        cfg: Settings, tmp_path: Path, pressed_at: object) -> None:
    before = _files(tmp_path)
    event = {**_sos("E1", "x"), "pressed_at": pressed_at}
    assert announce.accept(cfg, "sos_alerts", [_redis(event), {"event": event}]) == []
    assert _files(tmp_path) - before == {cfg.refused_dir / "sos_alerts" / "announcements.jsonl"}
    assert list((cfg.stream_dir).rglob("*")) == []
    assert all("pressed_at" in r and "not written" in r for r in _reasons(cfg, "sos_alerts"))


def test_a_planted_symlink_in_stream_is_not_followed(cfg: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    (cfg.stream_dir / "sos_alerts").mkdir(parents=True)
    (cfg.stream_dir / "sos_alerts" / "sos_2025-01-01T10.jsonl").symlink_to(outside)
    assert announce.accept(cfg, "sos_alerts", [{"event": _sos("E1", "2025-01-01T10:05:00+01:00")},
                                               {"event": "not an object"}]) == []
    assert outside.read_text() == "keep me\n"
    reasons = _reasons(cfg, "sos_alerts")
    assert "would lie outside" in reasons[0] and "not a JSON object" in reasons[1]


def test_an_api_call_left_unanswered_is_repeated_until_answered() -> None:
    """CI saw the demo's asset-event POST go unanswered for 30 s while the embedded
    scheduler held SQLite, and the demo died of ``TimeoutError``; a real HTTP server
    that answers the first call too late and the second at once gets its answer."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls: list[float] = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            calls.append(time.monotonic())
            self.rfile.read(int(self.headers["Content-Length"]))
            if len(calls) == 1:
                time.sleep(1.5)  # past the caller's timeout
            body = json.dumps({"id": len(calls)}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert announce._rest(url, "t", "POST", "/api/v2/assets/events", {"asset_id": 1}, timeout_s=0.5) == {"id": 2}
        assert len(calls) == 2
        with pytest.raises(TimeoutError):  # still unanswered after the last attempt: said, not hidden
            calls.clear()
            announce._rest(url, "t", "POST", "/x", {}, attempts=1, timeout_s=0.5)
    finally:
        server.shutdown()
