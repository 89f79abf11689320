"""The Assets that connect ingestion and dbt, defined once and imported by every DAG.

``inbox_<source>``: a delivery arrived (updated by the triggerer's watcher, or by an
external system through the REST API). ``landed_<source>``: new rows are visible in
``landing.<source>``. ``published_warehouse``: a new read-only warehouse is out.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetWatcher

from ingestion.config import Settings


def inbox_asset(cfg: Settings, source: str) -> Asset:
    from ingestion.triggers import InboxArrivalTrigger

    trigger = InboxArrivalTrigger(
        source=source,
        inbox_dir=str(cfg.inbox_dir / source),
        received_dir=str(cfg.received_dir / source),
        poll_interval=cfg.inbox_poll_seconds,
    )
    return Asset(
        name=f"inbox_{source}",
        uri=(cfg.inbox_dir / source).as_uri(),
        group="inbox",
        watchers=[AssetWatcher(name=f"inbox_{source}_watcher", trigger=trigger)],
    )


def landed_asset(cfg: Settings, source: str) -> Asset:
    return Asset(name=f"landed_{source}", uri=(cfg.landing_dir / source).as_uri(), group="landing")


def published_asset(cfg: Settings) -> Asset:
    return Asset(name="published_warehouse", uri=cfg.published_path.as_uri(), group="warehouse")


WRITER_POOL = "duckdb_writer"
