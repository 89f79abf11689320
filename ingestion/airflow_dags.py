"""DAG builders shared by the files in ``dags/`` (one DAG per file there).

Every task that opens a DuckDB file for writing runs in the one-slot pool
``duckdb_writer``: DuckDB allows a single writing process per file, and the pool
makes Airflow respect that whatever its parallelism. Nothing heavy happens at import:
the DAG processor parses these files every few seconds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, dag, task

from ingestion.alerts import notify_failure
from ingestion.assets import WRITER_POOL, inbox_asset, landed_asset, published_asset
from ingestion.config import Settings, settings

log = logging.getLogger(__name__)
# the history the platform holds (the survey and the camera log go back to 2024): backfills start here
START = datetime(2024, 1, 1, tzinfo=UTC)
OWNER = "data-engineering"


def default_args(cfg: Settings, retries: int = 2) -> dict[str, Any]:
    """Retries with exponential backoff; after the last one, a log line and an e-mail."""
    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": timedelta(seconds=cfg.retry_delay_seconds),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": notify_failure,
    }


def ingest_dag(source: str, doc_md: str) -> DAG:
    """``ingest_<source>``: runs when a delivery lands in ``inbox/<source>/`` or is announced."""
    cfg = settings()

    @dag(
        dag_id=f"ingest_{source}",
        schedule=[inbox_asset(cfg, source)],
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(cfg),
        tags=["ingestion", source],
        doc_md=doc_md,
    )
    def _ingest() -> None:
        # ingestion outranks the build for the writer slot: waiting deliveries land first, and
        # the build then runs once for all of them instead of once per source
        @task(pool=WRITER_POOL, outlets=[landed_asset(cfg, source)], priority_weight=10, weight_rule="absolute")
        def land_deliveries(triggering_asset_events: Any = None) -> list[dict[str, object]]:
            """Claim announced deliveries, then parse, validate (GX), land and ledger every waiting one."""
            from airflow.sdk.exceptions import AirflowSkipException

            from ingestion import announce
            from ingestion.pipeline import ingest

            c = settings()
            extras = [e.extra for asset in (triggering_asset_events or {}) for e in triggering_asset_events[asset]]
            for path in announce.accept(c, source, extras):
                log.info("announced delivery claimed: %s", path)
            results = ingest(c, [source])
            for r in results:
                (log.error if r.status == "refused" else log.info)("%s", r.line())
            if not any(r.status == "loaded" for r in results):
                raise AirflowSkipException("no new rows landed: nothing for dbt to rebuild")
            return [r.as_dict() for r in results]

        land_deliveries()

    return _ingest()


def build_dag(sources: list[str], doc_md: str) -> DAG:
    """``build_warehouse``: plan what changed, one ``dbt build`` over it, then publish."""
    cfg = settings()
    landed = [landed_asset(cfg, s) for s in sources]
    schedule = landed[0]
    for asset in landed[1:]:
        schedule = schedule | asset
    args = default_args(cfg)

    @dag(
        dag_id="build_warehouse",
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=args,
        tags=["dbt", "warehouse"],
        doc_md=doc_md,
    )
    def _build() -> None:
        @task(pool=WRITER_POOL, priority_weight=1, weight_rule="absolute")
        def plan_build(triggering_asset_events: Any = None) -> dict[str, Any]:
            """Only the dbt nodes the changed landing tables reach (everything on a manual run,
            a first build, after a failed build or a changed dbt project)."""
            from ingestion.pipeline import plan_build as plan

            changed = sorted({a.name.removeprefix("landed_") for a in (triggering_asset_events or {})})
            return plan(settings(), changed)

        # one retry: a failed test fails again, a lock or a killed worker does not
        @task(pool=WRITER_POOL, priority_weight=1, weight_rule="absolute", retries=1)
        def dbt_build(plan: dict[str, Any], ti: Any = None) -> str:
            """``dbt build`` (models, seeds and every test) of the planned nodes in one dbt process;
            a failed model or test skips what depends on it and fails the task, naming them.
            Per-node results: ``ops.build_nodes`` and ``ksp status``."""
            from ingestion.pipeline import run_build

            return run_build(settings(), plan["build_id"], plan["select"], attempt=ti.try_number)

        @task(pool=WRITER_POOL, outlets=[published_asset(cfg)], priority_weight=1, weight_rule="absolute")
        def publish_warehouse(plan: dict[str, Any], summary: str) -> dict[str, Any]:
            """Copy the marts to a new read-only file and swap it in (readers never see a half build)."""
            from ingestion.pipeline import finish_build, publish

            c = settings()
            published_at = publish(c, plan["build_id"])
            finish_build(c, plan["build_id"], "success", f"{plan['reason']}: {summary}", published_at)
            return {"build_id": plan["build_id"], "published_path": str(c.published_path)}

        @task(pool=WRITER_POOL, trigger_rule="one_failed", retries=0)
        def record_failed_build(ti: Any = None) -> None:
            """The build failed: the published warehouse stays as it was."""
            from ingestion.pipeline import failure_summary, finish_build, recorded_nodes

            plan = ti.xcom_pull(task_ids="plan_build")
            if not plan:
                raise RuntimeError("the build could not be planned; the published warehouse is unchanged")
            c = settings()
            # the same message `ksp build` records: the failed nodes and what they skipped
            message = failure_summary(plan["build_id"], recorded_nodes(c, plan["build_id"]))
            finish_build(c, plan["build_id"], "failed", message)
            raise RuntimeError(message)

        plan = plan_build()
        summary = dbt_build(plan)
        published = publish_warehouse(plan, summary)
        [summary, published] >> record_failed_build()

    return _build()
