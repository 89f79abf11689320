"""Deliveries announced by an event instead of dropped into the inbox (SPEC: "or is
announced by an event naming its path").

Two channels reach the ``inbox_<source>`` asset:

* Airflow's REST API: ``POST /api/v2/assets/events`` with ``extra = {"path": ...}``
  (``ksp announce`` is a small client for it);
* in production, Redis pub/sub on ``ksp:deliveries:<source>``, watched from the
  triggerer by ``MessageQueueTrigger(scheme="redis+pubsub")``. A message names a path
  (``{"path": ...}``) or, for SOS points, *is* one event (SPEC §8: "the same events
  published one by one on the event channel").

The ingest task turns each announcement into a claim in ``received/<source>/`` and the
usual path follows, so exactly-once (file name + bytes) holds for announcements too.
Streamed SOS events gather in one file per hour under ``stream/`` that keeps the SPEC
name ``sos_YYYY-MM-DDTHH.jsonl``; each new event re-delivers the hour with every event
so far, which supersedes the previous copy of that hour, and the hourly file the SOS
system sends later supersedes them all.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ingestion import inbox
from ingestion.config import Settings

log = logging.getLogger(__name__)
STREAMED_SOURCES = ("interventions", "sos_alerts")


def redis_channel(source: str) -> str:
    return f"ksp:deliveries:{source}"


# --------------------------------------------------------------------------- receiving side


def _payload(extra: Mapping[str, Any]) -> dict[str, Any] | None:
    """The announcement inside an asset event's extra, whichever channel it came by."""
    if not extra.get("from_trigger"):
        return dict(extra) if ("path" in extra or "event" in extra) else None  # REST
    payload = extra.get("payload") or {}
    if payload.get("type") == "message":  # Redis pub/sub: the message body is JSON
        try:
            body = json.loads(payload.get("data") or "")
        except json.JSONDecodeError:
            return {"invalid": payload.get("data")}
        if isinstance(body, dict) and "event_id" in body:
            return {"event": body}
        return body if isinstance(body, dict) else {"invalid": payload.get("data")}
    return None  # the inbox watcher's own events: the file is claimed already


def _pressed_key(event: dict[str, Any]) -> tuple[int, float | str]:
    try:
        return (0, datetime.fromisoformat(str(event["pressed_at"])).timestamp())
    except (KeyError, ValueError):
        return (1, str(event.get("pressed_at")))  # unreadable: last, the parser quarantines it


def _stream_event(cfg: Settings, source: str, event: dict[str, Any]) -> Path:
    """Add one streamed SOS event to its hour file and claim a copy of that hour."""
    pressed = str(event.get("pressed_at") or "")
    if len(pressed) < 13 or pressed[10] != "T":
        raise ValueError(f"streamed {source} event {event.get('event_id')!r}: pressed_at {pressed!r} "
                         "is not ISO 8601 with an offset (SPEC §8)")
    hour_file = cfg.stream_dir / source / f"sos_{pressed[:13]}.jsonl"
    hour_file.parent.mkdir(parents=True, exist_ok=True)
    events = [json.loads(line) for line in hour_file.read_text().splitlines()] if hour_file.exists() else []
    if all(e.get("event_id") != event.get("event_id") for e in events):
        events.append(event)
    events.sort(key=_pressed_key)
    tmp = hour_file.with_name(hour_file.name + ".tmp")
    tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
    os.replace(tmp, hour_file)
    return inbox.claim_copy(hour_file, cfg.received_dir / source)


def accept(cfg: Settings, source: str, extras: Iterable[Mapping[str, Any]]) -> list[Path]:
    """Claim what each announcement names; return the claimed paths.

    An announcement naming a missing file, or an unreadable message, is logged with the
    reason and kept under ``refused/<source>/announcements.jsonl``; it never blocks the
    deliveries announced beside it.
    """
    claimed: list[Path] = []
    for extra in extras:
        payload = _payload(extra)
        if payload is None:
            continue
        try:
            if "event" in payload:
                if source != "sos_alerts":
                    raise ValueError(f"{source} does not stream single events; announce a file path")
                claimed.append(_stream_event(cfg, source, payload["event"]))
            elif "path" in payload:
                raw = str(payload["path"])
                path = Path(urllib.parse.urlparse(raw).path if raw.startswith("file://") else raw)
                if not path.is_file():
                    raise FileNotFoundError(f"announced delivery {raw} does not exist")
                claimed.append(inbox.claim_copy(path, cfg.received_dir / source))
            else:
                raise ValueError(f"announcement has neither 'path' nor an SOS event: {payload!r}"[:500])
        except (OSError, ValueError) as e:
            log.error("announcement for %s refused: %s", source, e)
            refused = cfg.refused_dir / source
            refused.mkdir(parents=True, exist_ok=True)
            with (refused / "announcements.jsonl").open("a") as f:
                f.write(json.dumps({"at": time.time(), "reason": str(e), "extra": extra}, default=str) + "\n")
    return claimed


# --------------------------------------------------------------------------- announcing side


def rest_token(base_url: str, username: str, password: str) -> str:
    req = urllib.request.Request(
        f"{base_url}/auth/token", data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["access_token"]


def _rest(base_url: str, token: str, method: str, path: str, body: dict | None = None,
          attempts: int = 5) -> dict:
    """One API call, retried with backoff on a server error or a refused connection.

    A 5xx leaves nothing behind (the API server rolls its transaction back; with the
    embedded SQLite metadata database a busy scheduler can make it time out), so
    repeating the call is safe.
    """
    req = urllib.request.Request(
        f"{base_url}{path}", data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, method=method)
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code < 500 or attempt == attempts - 1:
                raise
            log.warning("%s %s answered %s; retrying", method, path, e.code)
        except urllib.error.URLError:
            if attempt == attempts - 1:
                raise
        time.sleep(2**attempt)
    raise AssertionError("unreachable")


def announce_rest(base_url: str, token: str, source: str, extra: dict[str, Any]) -> dict:
    """Post an asset event on ``inbox_<source>`` through Airflow's REST API (v2)."""
    found = _rest(base_url, token, "GET", f"/api/v2/assets?name_pattern=inbox_{source}&limit=5")
    [asset] = [a for a in found["assets"] if a["name"] == f"inbox_{source}"]
    return _rest(base_url, token, "POST", "/api/v2/assets/events", {"asset_id": asset["id"], "extra": extra})


def announce_redis(redis_url: str, source: str, message: dict[str, Any]) -> int:
    """Publish one announcement (``{"path": ...}``) or SOS event; returns the subscriber count."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.publish(redis_channel(source), json.dumps(message, ensure_ascii=False)))
    finally:
        client.close()
