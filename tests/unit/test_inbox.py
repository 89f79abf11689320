"""Claiming deliveries: each file handed on once, half-written files left alone."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from ingestion import inbox

pytestmark = pytest.mark.unit


def test_claims_settled_files_once_and_skips_partial_ones(tmp_path: Path) -> None:
    box, received = tmp_path / "inbox", tmp_path / "received"
    box.mkdir()
    (box / "kmp_zdarzenia_2025-03.csv").write_text("x")
    (box / ".kmp_zdarzenia_2025-04.csv.part").write_text("x")
    (box / "fresh.csv").write_text("x")
    old = time.time() - 10
    os.utime(box / "kmp_zdarzenia_2025-03.csv", (old, old))

    claimed = inbox.claim(box, received, settle_seconds=5)
    assert [p.name for p in claimed] == ["kmp_zdarzenia_2025-03.csv"]
    assert not (box / "kmp_zdarzenia_2025-03.csv").exists()
    assert inbox.pending(received) == claimed
    assert inbox.claim(box, received, settle_seconds=5) == []  # nothing fires twice
    assert sorted(p.name for p in box.iterdir()) == [".kmp_zdarzenia_2025-04.csv.part", "fresh.csv"]


def test_same_name_delivered_twice_is_kept_twice(tmp_path: Path) -> None:
    box, received = tmp_path / "inbox", tmp_path / "received"
    box.mkdir()
    (box / "a.csv").write_text("1")
    first = inbox.claim(box, received, settle_seconds=0)
    (box / "a.csv").write_text("2")
    second = inbox.claim(box, received, settle_seconds=0)
    assert first[0] != second[0]
    assert [p.read_text() for p in inbox.pending(received)] == ["1", "2"]


def test_trigger_emits_one_event_per_landed_file(tmp_path: Path) -> None:
    from orchestration.triggers import InboxArrivalTrigger

    box, received = tmp_path / "inbox" / "police", tmp_path / "received" / "police"
    box.mkdir(parents=True)
    trigger = InboxArrivalTrigger(source="police", inbox_dir=str(box), received_dir=str(received),
                                  poll_interval=0.05, settle_seconds=0)
    classpath, kwargs = trigger.serialize()
    assert classpath == "orchestration.triggers.InboxArrivalTrigger"
    assert InboxArrivalTrigger(**kwargs).serialize() == (classpath, kwargs)

    async def first_two() -> list[dict]:
        events = []
        gen = trigger.run()
        (box / "kmp_zdarzenia_2025-03.csv").write_text("x")
        events.append((await asyncio.wait_for(gen.__anext__(), 5)).payload)
        (box / "kmp_zdarzenia_2025-04.csv").write_text("y")
        events.append((await asyncio.wait_for(gen.__anext__(), 5)).payload)
        await gen.aclose()
        return events

    events = asyncio.run(first_two())
    assert [e["file"] for e in events] == ["kmp_zdarzenia_2025-03.csv", "kmp_zdarzenia_2025-04.csv"]
    assert all(Path(e["path"]).exists() and e["source"] == "police" for e in events)
    assert list(box.iterdir()) == []
