"""DAG builders shared by the files in ``dags/`` (one DAG per file there): the
asset-triggered ``ingest_<source>`` and ``build_warehouse`` DAGs, and the header every
calendar DAG shares (:func:`calendar_dag`).

Every task that opens a DuckDB file for writing runs in the one-slot pool
``duckdb_writer``: DuckDB allows a single writing process per file, and the pool
makes Airflow respect that whatever its parallelism. Nothing heavy happens at import:
the DAG processor parses these files every few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, dag, task

from ingestion.config import Settings, settings
from orchestration.alerts import notify_failure
from orchestration.assets import WAREHOUSE_QUEUE, WRITER_POOL, inbox_asset, landed_asset, published_asset

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


def calendar_dag(dag_id: str, cron: str, doc_md: str | None, *, tags: Sequence[str], retries: int = 2,
                 max_active_runs: int = 1) -> Callable[[Callable[..., None]], Callable[..., DAG]]:
    """The ``@dag`` of a calendar DAG: a cron in Europe/Warsaw (the city's calendar, DST
    included), history from ``START`` for backfills, no catch-up, retries with backoff
    and a mail after the last one; paused at creation where ``KSP_CALENDAR_PAUSED`` says
    so (the demo replays history)."""
    from airflow.timetables.trigger import CronTriggerTimetable

    cfg = settings()
    return dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(cron, timezone="Europe/Warsaw"),
        start_date=START,
        catchup=False,
        is_paused_upon_creation=cfg.calendar_paused,
        max_active_runs=max_active_runs,
        default_args=default_args(cfg, retries=retries),
        tags=list(tags),
        doc_md=doc_md,
    )


def after_publish_dag(dag_id: str, doc_md: str | None, *, tags: Sequence[str]
                      ) -> Callable[[Callable[..., None]], Callable[..., DAG]]:
    """The ``@dag`` of a DAG that runs after every published build (the duty summary,
    the map page): scheduled on ``published_warehouse``, one run at a time."""
    cfg = settings()
    return dag(
        dag_id=dag_id,
        schedule=[published_asset(cfg)],
        is_paused_upon_creation=False,  # event-driven: Airflow would create it paused, and nothing would land
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(cfg),
        tags=list(tags),
        doc_md=doc_md,
    )


def ingest_dag(source: str, doc_md: str) -> DAG:
    """``ingest_<source>``: runs when a delivery lands in ``inbox/<source>/`` or is announced."""
    cfg = settings()

    @dag(
        dag_id=f"ingest_{source}",
        schedule=[inbox_asset(cfg, source)],
        is_paused_upon_creation=False,  # event-driven: Airflow would create it paused, and nothing would land
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
        @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE, outlets=[landed_asset(cfg, source)], priority_weight=10,
              weight_rule="absolute")
        def land_deliveries(triggering_asset_events: Any = None) -> list[dict[str, object]]:
            """Claim announced deliveries, then parse, validate (GX), land and ledger every waiting one."""
            from airflow.sdk.exceptions import AirflowSkipException

            from ingestion import announce
            from ingestion.landing import ingest
            from ingestion.logs import log_results

            c = settings()
            extras = [e.extra for asset in (triggering_asset_events or {}) for e in triggering_asset_events[asset]]
            for path in announce.accept(c, source, extras):
                log.info("announced delivery claimed: %s", path)
            results = ingest(c, [source])
            log_results(results, log)
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
        is_paused_upon_creation=False,  # event-driven: Airflow would create it paused, and nothing would land
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=args,
        tags=["dbt", "warehouse"],
        doc_md=doc_md,
    )
    def _build() -> None:
        # the steps of warehouse.build.build(), one task each (the sequence is written there)
        @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE, priority_weight=1, weight_rule="absolute")
        def plan_build(triggering_asset_events: Any = None) -> dict[str, Any]:
            """Only the dbt nodes the changed landing tables reach (everything on a manual run,
            a first build, after a failed build or a changed dbt project)."""
            from warehouse import build

            changed = sorted({a.name.removeprefix("landed_") for a in (triggering_asset_events or {})})
            return build.plan_build(settings(), changed, handover=True)

        # one retry: a failed test fails again, a lock or a killed worker does not
        @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE, priority_weight=1, weight_rule="absolute", retries=1)
        def dbt_build(plan: dict[str, Any], ti: Any = None) -> str:
            """``dbt build`` (models, seeds and every test) of the planned nodes in one dbt process;
            a failed model or test skips what depends on it and fails the task, naming them.
            Per-node results: ``ops.build_nodes`` and ``ksp status``."""
            from warehouse import build

            return build.dbt_build(settings(), plan, attempt=ti.try_number, handover=True)

        @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE, outlets=[published_asset(cfg)], priority_weight=1,
              weight_rule="absolute")
        def publish_warehouse(plan: dict[str, Any], summary: str) -> dict[str, Any]:
            """Copy the marts to a new read-only file and swap it in (readers never see a half build)."""
            from warehouse import build

            return build.publish_build(settings(), plan, summary)

        @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE, trigger_rule="one_failed", retries=0)
        def record_failed_build(ti: Any = None) -> None:
            """The build failed: the published warehouse stays as it was."""
            from warehouse import build

            plan = ti.xcom_pull(task_ids="plan_build")
            if not plan:
                raise RuntimeError("the build could not be planned; the published warehouse is unchanged")
            raise RuntimeError(build.fail_build(settings(), plan["build_id"]))

        plan = plan_build()
        summary = dbt_build(plan)
        published = publish_warehouse(plan, summary)
        [summary, published] >> record_failed_build()

    return _build()
