"""DAG builders shared by the files in ``dags/`` (one DAG per file there).

Every task that opens a DuckDB file for writing runs in the one-slot pool
``duckdb_writer``: DuckDB allows a single writing process per file, and the pool
makes Airflow respect that whatever its parallelism.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, dag, task

from ingestion.assets import WRITER_POOL, inbox_asset, landed_asset, published_asset
from ingestion.config import settings

log = logging.getLogger(__name__)

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
}
START = datetime(2026, 1, 1, tzinfo=UTC)


def ingest_dag(source: str, doc_md: str) -> DAG:
    """``ingest_<source>``: runs when a delivery lands in ``inbox/<source>/``."""
    cfg = settings()

    @dag(
        dag_id=f"ingest_{source}",
        schedule=[inbox_asset(cfg, source)],
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["ingestion", source],
        doc_md=doc_md,
    )
    def _ingest() -> None:
        # ingestion outranks the build for the writer slot: waiting deliveries land first, and
        # the build then runs once for all of them instead of once per source
        @task(pool=WRITER_POOL, outlets=[landed_asset(cfg, source)], priority_weight=10, weight_rule="absolute")
        def land_deliveries() -> list[dict[str, object]]:
            """Parse, validate (GX), land and ledger every waiting delivery of this source."""
            from airflow.sdk.exceptions import AirflowSkipException

            from ingestion.pipeline import ingest

            results = ingest(settings(), [source])
            for r in results:
                (log.error if r.status == "refused" else log.info)("%s", r.line())
            if not any(r.status == "loaded" for r in results):
                raise AirflowSkipException("no new rows landed: nothing for dbt to rebuild")
            return [r.as_dict() for r in results]

        land_deliveries()

    return _ingest()


def build_dag(sources: list[str], doc_md: str) -> DAG:
    """``build_warehouse``: dbt build and publish when any landed table changes."""
    cfg = settings()
    landed = [landed_asset(cfg, s) for s in sources]
    schedule = landed[0]
    for asset in landed[1:]:
        schedule = schedule | asset

    @dag(
        dag_id="build_warehouse",
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["dbt", "warehouse"],
        doc_md=doc_md,
    )
    def _build() -> None:
        @task(pool=WRITER_POOL, outlets=[published_asset(cfg)], priority_weight=1, weight_rule="absolute")
        def dbt_build_and_publish() -> dict[str, object]:
            """dbt build (models, tests); on success swap in a new published warehouse."""
            from ingestion.pipeline import build

            return build(settings())

        dbt_build_and_publish()

    return _build()
