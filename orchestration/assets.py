"""The Assets that connect ingestion and dbt, defined once and imported by every DAG.

``inbox_<source>``: a delivery arrived (updated by the triggerer's watcher, or by an
external system through the REST API). ``landed_<source>``: new rows are visible in
``landing.<source>``. ``published_warehouse``: a new read-only warehouse is out.

URIs are logical (``ksp://landing/police``), not file paths: an asset's identity and
its event history must survive moving the data root to another disk.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetWatcher

from ingestion.announce import STREAMED_SOURCES, redis_channel
from ingestion.config import Settings
from ingestion.sources import NAMES


def inbox_asset(cfg: Settings, source: str) -> Asset:
    """A delivery arrived: the inbox watcher, a REST call or (production) a Redis message."""
    from orchestration.triggers import InboxArrivalTrigger

    trigger = InboxArrivalTrigger(
        source=source,
        inbox_dir=str(cfg.inbox_dir / source),
        received_dir=str(cfg.received_dir / source),
        poll_interval=cfg.inbox_poll_seconds,
    )
    watchers = [AssetWatcher(name=f"inbox_{source}_watcher", trigger=trigger)]
    if cfg.redis_events and source in STREAMED_SOURCES:
        # imported only when enabled: the provider registry costs DAG-parse time
        from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger

        watchers.append(AssetWatcher(
            name=f"redis_{source}_watcher",
            trigger=MessageQueueTrigger(scheme="redis+pubsub", channels=[redis_channel(source)],
                                        redis_conn_id=cfg.redis_conn_id, poll_interval=0.5),
        ))
    return Asset(
        name=f"inbox_{source}",
        uri=f"ksp://inbox/{source}",
        group="inbox",
        watchers=watchers,
    )


def landed_asset(cfg: Settings, source: str) -> Asset:
    return Asset(name=f"landed_{source}", uri=f"ksp://landing/{source}", group="landing")


def published_asset(cfg: Settings) -> Asset:
    return Asset(name="published_warehouse", uri="ksp://warehouse/published", group="warehouse")


WRITER_POOL = "duckdb_writer"
# The Celery queue of every task in the writer pool: in production one worker serves it
# (docker-compose.yml's warehouse-worker), the one that holds the data volume; the
# LocalExecutor of the embedded default ignores queues.
WAREHOUSE_QUEUE = "warehouse"

# The SPEC's sources by name, for DAG files: derived from the parser modules without
# importing them (the parsers and pandas would cost the DAG processor half a second a parse).
SOURCE_NAMES: tuple[str, ...] = NAMES
