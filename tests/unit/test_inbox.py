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


def test_a_symlink_in_the_inbox_is_not_claimed_nor_followed_and_is_reported(tmp_path: Path) -> None:
    root, received = tmp_path / "inbox", tmp_path / "received" / "police"
    box = root / "police"
    box.mkdir(parents=True)
    secret = tmp_path / "ops" / "pseudonym.key"
    secret.parent.mkdir()
    secret.write_bytes(b"key bytes")
    (box / "kmp_zdarzenia_2025-03.csv").symlink_to(secret)
    (box / "kmp_zdarzenia_2025-04.csv").write_text("x")
    (box / "kmp_zdarzenia_2025-05.csv").mkdir()  # a folder named like a delivery: not a file either

    claimed = inbox.claim(box, received, settle_seconds=0)
    assert [p.name for p in claimed] == ["kmp_zdarzenia_2025-04.csv"]
    assert (box / "kmp_zdarzenia_2025-03.csv").is_symlink()  # left where it is, not moved
    assert secret.read_bytes() == b"key bytes"
    assert not any(p.is_symlink() for p in received.rglob("*"))
    assert [p.read_text() for p in inbox.pending(received)] == ["x"]

    reported = {Path(e["path"]).name: e for e in inbox.unclaimable(root, ["police"], partial_grace_seconds=60)}
    assert set(reported) == {"kmp_zdarzenia_2025-03.csv", "kmp_zdarzenia_2025-05.csv"}
    assert reported["kmp_zdarzenia_2025-03.csv"]["source"] == "police"
    assert "symbolic link" in reported["kmp_zdarzenia_2025-03.csv"]["reason"]
    assert "not a regular file" in reported["kmp_zdarzenia_2025-05.csv"]["reason"]


def test_a_symlink_claimed_by_copy_is_refused_and_leaves_no_claim(tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_text("x")
    link = tmp_path / "kmp_zdarzenia_2025-03.csv"
    link.symlink_to(target)
    with pytest.raises(OSError):
        inbox.claim_copy(link, tmp_path / "received")
    assert not (tmp_path / "received").exists()


@pytest.mark.parametrize("name", ["../x.csv", "a/b.csv", "..", "x\x00.csv", "sos_\n.jsonl", ".hidden.csv",
                                  "a\u202ecsv.exe", "a\udcff.csv", ""])
def test_unsafe_names_never_become_claims(tmp_path: Path, name: str) -> None:
    src = tmp_path / "kmp_zdarzenia_2025-03.csv"
    src.write_text("x")
    with pytest.raises(inbox.UnsafeName):
        inbox.safe_name(name)
    with pytest.raises(inbox.UnsafeName):
        inbox.claim_copy(src, tmp_path / "received", name)
    assert not (tmp_path / "received").exists()


def test_names_are_claimed_in_nfc_form(tmp_path: Path) -> None:
    box, received = tmp_path / "inbox", tmp_path / "received"
    box.mkdir()
    (box / "ro\u0301z\u0307a.csv").write_text("x")  # o + combining acute, z + dot above, as macOS writes
    [claimed] = inbox.claim(box, received, settle_seconds=0)
    assert claimed.name == "r\u00f3\u017ca.csv"


def test_the_watcher_alerts_once_about_a_symlink_and_the_daily_check_fails_on_it(
        cfg, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from orchestration.calendar import StuckInInbox, check_inbox
    from orchestration.triggers import InboxArrivalTrigger

    box, received = cfg.inbox_dir / "police", cfg.received_dir / "police"
    box.mkdir(parents=True)
    link = box / "kmp_zdarzenia_2025-02.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    trigger = InboxArrivalTrigger(source="police", inbox_dir=str(box), received_dir=str(received),
                                  poll_interval=0.05, settle_seconds=0)

    async def one_event() -> dict:
        gen = trigger.run()
        await asyncio.sleep(0)
        task = asyncio.ensure_future(gen.__anext__())
        await asyncio.sleep(0.3)  # several polls with only the symlink there
        (box / "kmp_zdarzenia_2025-03.csv").write_text("x")
        event = (await asyncio.wait_for(task, 5)).payload
        await gen.aclose()
        return event

    event = asyncio.run(one_event())
    assert event["file"] == "kmp_zdarzenia_2025-03.csv"
    out = capfd.readouterr()  # the trigger's logger writes the triggerer's log (structlog)
    alerts = [line for line in (out.out + out.err).splitlines() if "ALERT inbox" in line]
    assert len(alerts) == 1 and f"{link}: symbolic link" in alerts[0]
    assert link.is_symlink()

    with pytest.raises(StuckInInbox, match="symbolic link"):
        check_inbox(cfg)
    link.unlink()
    assert check_inbox(cfg) == 0
