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
import re
import stat
import time
import unicodedata
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
# SPEC §8: ISO 8601 with an offset; ASCII digits only (``\d`` would take any script's digits)
PRESSED_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                        r"(Z|[+-][0-9]{2}:?[0-9]{2})")


class AnnouncementRefused(ValueError):
    """An announcement that names something the platform must not take."""


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


def _hour_of(source: str, event: dict[str, Any]) -> str:
    """The ``YYYY-MM-DDTHH`` an event's ``pressed_at`` names, checked before it becomes a file name."""
    pressed = event.get("pressed_at")
    text = pressed if isinstance(pressed, str) else ""
    problem = None
    if not PRESSED_AT.fullmatch(text):
        problem = "is not ISO 8601 with an offset (SPEC §8)"
    else:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            problem = "names no real date and time"
    if problem:
        raise AnnouncementRefused(f"streamed {source} event {event.get('event_id')!r}: pressed_at {pressed!r} "
                                  f"{problem}; not written")
    return text[:13]


def _stream_event(cfg: Settings, source: str, event: Any) -> Path:
    """Add one streamed SOS event to its hour file and claim a copy of that hour.

    Only ``pressed_at`` becomes part of a path, and only once it is a real ISO 8601 time
    in ASCII digits; the hour file must then lie directly in ``stream/<source>/`` and be
    a regular file (a planted symlink is not followed).
    """
    if not isinstance(event, dict):
        raise AnnouncementRefused(f"streamed {source} event is not a JSON object: {event!r}"[:500])
    folder = cfg.stream_dir / source
    hour_file = folder / inbox.safe_name(f"sos_{_hour_of(source, event)}.jsonl")
    if hour_file.resolve().parent != folder.resolve():
        raise AnnouncementRefused(f"streamed {source} event {event.get('event_id')!r}: hour file {hour_file} "
                                  f"would lie outside {folder}; not written")
    folder.mkdir(parents=True, exist_ok=True)
    events = []
    if os.path.lexists(hour_file):
        if not stat.S_ISREG(os.lstat(hour_file).st_mode):
            raise AnnouncementRefused(f"{hour_file} is not a regular file (a symlink?); not written")
        events = [json.loads(line) for line in hour_file.read_text().splitlines()]
    if all(e.get("event_id") != event.get("event_id") for e in events):
        events.append(event)
    events.sort(key=_pressed_key)
    tmp = hour_file.with_name(hour_file.name + ".tmp")
    tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
    os.replace(tmp, hour_file)
    return inbox.claim_copy(hour_file, cfg.received_dir / source)


def _platform_stores(cfg: Settings) -> list[Path]:
    """Folders and files of the platform itself: never a delivery, whatever the roots say."""
    return [cfg.pseudonym_key_path, cfg.ledger_path.parent, cfg.warehouse_path.parent, cfg.published_path.parent,
            cfg.received_dir, cfg.archive_dir, cfg.refused_dir, cfg.landing_dir, cfg.stream_dir, cfg.gx_root,
            cfg.airflow_home, cfg.reports_dir, cfg.extension_dir]


def announced_file(cfg: Settings, raw: Any) -> Path:
    """The regular file an announcement's ``path`` names, symlinks and ``..`` resolved, if it
    lies inside a delivery root (``KSP_DELIVERY_ROOTS``) and outside the platform's stores;
    otherwise :class:`AnnouncementRefused` (or ``FileNotFoundError``) with the reason."""
    if not isinstance(raw, str) or not raw:
        raise AnnouncementRefused(f"announced path {raw!r} is not a path")
    text = urllib.parse.unquote(urllib.parse.urlparse(raw).path) if raw.startswith("file://") else raw
    if any(unicodedata.category(c) in {"Cc", "Cf", "Cs"} for c in text):
        raise AnnouncementRefused(f"announced path {raw!r} holds a control character; not copied")
    path = Path(text)
    if not path.is_absolute():
        raise AnnouncementRefused(f"announced path {raw!r} is not absolute; not copied")
    real = path.resolve()  # every symlink and '..' of it resolved, as far as it exists
    roots = [r.resolve() for r in cfg.delivery_roots]
    if not any(real.is_relative_to(r) for r in roots):
        raise AnnouncementRefused(
            f"announced delivery {raw} resolves to {real}, outside the delivery roots "
            f"({os.pathsep.join(map(str, roots))}, KSP_DELIVERY_ROOTS); not copied")
    for store in _platform_stores(cfg):
        if real == store.resolve() or real.is_relative_to(store.resolve()):
            raise AnnouncementRefused(f"announced delivery {raw} resolves to {real}, inside the platform's own "
                                      f"{store}; not copied")
    if not real.exists():  # said only inside the roots: the answer must not probe the machine
        raise FileNotFoundError(f"announced delivery {raw} does not exist")
    if not stat.S_ISREG(os.stat(real).st_mode):
        raise AnnouncementRefused(f"announced delivery {raw} is not a regular file; not copied")
    return real


def accept(cfg: Settings, source: str, extras: Iterable[Mapping[str, Any]]) -> list[Path]:
    """Claim what each announcement names; return the claimed paths.

    An announcement naming a missing file, a file outside the delivery roots (after
    resolving symlinks and ``..``), or an unsafe name, an SOS event whose ``pressed_at``
    cannot name its hour file, or an unreadable message, is logged with the reason and
    kept under ``refused/<source>/announcements.jsonl``; nothing of it is copied or
    written, and it never blocks the deliveries announced beside it.
    """
    inbox.safe_name(source, "source")
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
                real = announced_file(cfg, payload["path"])
                claimed.append(inbox.claim_copy(real, cfg.received_dir / source))
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
    """A JWT for Airflow's REST API, with the same patience as any call (a busy embedded
    API server answers late)."""
    req = urllib.request.Request(
        f"{base_url}/auth/token", data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    return _call(req)["access_token"]


def _rest(base_url: str, token: str, method: str, path: str, body: dict | None = None,
          attempts: int = 5, timeout_s: float = 60.0) -> dict:
    """One API call (see ``_call`` for when and why it is repeated)."""
    req = urllib.request.Request(
        f"{base_url}{path}", data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, method=method)
    return _call(req, attempts, timeout_s)


def _call(req: urllib.request.Request, attempts: int = 5, timeout_s: float = 60.0) -> dict:
    """The JSON answer to ``req``, retried with backoff on a server error, a refused
    connection or no answer within ``timeout_s``.

    A 5xx leaves nothing behind (the API server rolls its transaction back; with the
    embedded SQLite metadata database a busy scheduler can make it time out), so
    repeating the call is safe. A call that timed out may still have been done: the
    repeat is safe too, because an asset event names a delivery (a path or an SOS event
    id) and the platform takes the same delivery once (CI saw a demo's POST go
    unanswered for 30 s while the scheduler held SQLite).
    """
    what = f"{req.get_method()} {urllib.parse.urlsplit(req.full_url).path}"
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code < 500 or attempt == attempts - 1:
                raise
            log.warning("%s answered %s; retrying", what, e.code)
        except (urllib.error.URLError, TimeoutError) as e:
            if attempt == attempts - 1:
                raise
            log.warning("%s: %s; retrying", what, getattr(e, "reason", e))
        time.sleep(2**attempt)
    raise AssertionError("unreachable")


def announce_rest(base_url: str, token: str, source: str, extra: dict[str, Any]) -> dict:
    """Post an asset event on ``inbox_<source>`` through Airflow's REST API (v2)."""
    found = _rest(base_url, token, "GET", f"/api/v2/assets?name_pattern=inbox_{source}&limit=5")
    [asset] = [a for a in found["assets"] if a["name"] == f"inbox_{source}"]
    return _rest(base_url, token, "POST", "/api/v2/assets/events", {"asset_id": asset["id"], "extra": extra})


def trigger_dag_rest(base_url: str, token: str, dag_id: str) -> dict:
    """Start a run of ``dag_id`` now through Airflow's REST API (v2), as the UI's trigger
    button does (the demo resumes what an interrupted run left with it)."""
    return _rest(base_url, token, "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})


def announce_redis(redis_url: str, source: str, message: dict[str, Any]) -> int:
    """Publish one announcement (``{"path": ...}``) or SOS event; returns the subscriber count."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.publish(redis_channel(source), json.dumps(message, ensure_ascii=False)))
    finally:
        client.close()
