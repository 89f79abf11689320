"""The triggerer-side watcher that turns a file landing in an inbox into an Asset event.

It runs inside Airflow's triggerer (asyncio), so no worker slot is held while the
platform waits for deliveries. Each settled file is claimed by an atomic rename into
``received/<source>/`` (see :mod:`ingestion.inbox`) before the event is emitted: the
file cannot fire twice, and a restarted triggerer picks up where it left off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from ingestion import inbox


class InboxArrivalTrigger(BaseEventTrigger):
    """Fire one event per delivery that lands in ``inbox_dir``; the payload names the file."""

    def __init__(self, *, source: str, inbox_dir: str, received_dir: str,
                 poll_interval: float = 5.0, settle_seconds: float = inbox.SETTLE_SECONDS) -> None:
        super().__init__()
        self.source = source
        self.inbox_dir = inbox_dir
        self.received_dir = received_dir
        self.poll_interval = poll_interval
        self.settle_seconds = settle_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "orchestration.triggers.InboxArrivalTrigger",
            {
                "source": self.source,
                "inbox_dir": self.inbox_dir,
                "received_dir": self.received_dir,
                "poll_interval": self.poll_interval,
                "settle_seconds": self.settle_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from ingestion.config import settings
        from orchestration.alerts import log_inbox_alert

        grace = settings().partial_grace_seconds
        alerted: set[tuple[str, str]] = set()  # each stuck file alerted once per watcher, not every poll
        while True:
            claimed = await asyncio.to_thread(
                inbox.claim, Path(self.inbox_dir), Path(self.received_dir),
                settle_seconds=self.settle_seconds,
            )
            stuck = await asyncio.to_thread(inbox.unclaimable_in, Path(self.inbox_dir),
                                            partial_grace_seconds=grace)
            log_inbox_alert([e for e in stuck if (e["path"], e["kind"]) not in alerted], self.log)
            alerted = {(e["path"], e["kind"]) for e in stuck}
            for path in claimed:
                self.log.info("delivery %s claimed for %s", path.name, self.source)
                yield TriggerEvent({"source": self.source, "file": path.name, "path": str(path)})
            await asyncio.sleep(self.poll_interval)
