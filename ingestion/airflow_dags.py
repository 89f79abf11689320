"""DAG builders shared by the files in ``dags/`` (one DAG per file there).

Every task that opens a DuckDB file for writing runs in the one-slot pool
``duckdb_writer``: DuckDB allows a single writing process per file, and the pool
makes Airflow respect that whatever its parallelism. Nothing heavy happens at import:
the DAG processor parses these files every few seconds.
"""

from __future__ import annotations

import logging
import os
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
    """``build_warehouse``: one Airflow task per dbt node (Cosmos), then publish."""
    os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")  # no calls home from the city's servers
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

    cfg = settings()
    if not cfg.dbt_manifest_path.exists():
        raise FileNotFoundError(f"{cfg.dbt_manifest_path} is missing: run `make setup` (or `ksp manifest`)")
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
        dbt = DbtTaskGroup(
            group_id="dbt",
            project_config=ProjectConfig(dbt_project_path=cfg.dbt_project_dir,
                                         manifest_path=cfg.dbt_manifest_path, env_vars=cfg.dbt_env(),
                                         install_dbt_deps=False),
            profile_config=ProfileConfig(profile_name="ksp", target_name="dev",
                                         profiles_yml_filepath=cfg.dbt_project_dir / "profiles.yml"),
            # in-process dbt (no interpreter start per node); `dbt build --select <node>` runs
            # the node and its tests, so a failed test stops everything downstream of it
            # "buildable": a node's task runs the tests whose other parents are built before it
            # (a relationship test runs with the later model, not with the dimension it points at)
            execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL,
                                              invocation_mode=InvocationMode.DBT_RUNNER,
                                              test_indirect_selection=TestIndirectSelection.BUILDABLE),
            render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD,
                                       emit_datasets=False),
            operator_args={
                "pool": WRITER_POOL,
                "priority_weight": 1,
                "weight_rule": "absolute",
                # a node whose parents were skipped (unchanged) still runs; a failed parent stops it
                "trigger_rule": "none_failed",
            },
            default_args={**args, "retries": 1},
        )

        # every dbt node's task, by the node's manifest id
        node_tasks = {t.extra_context["dbt_node_config"]["unique_id"]: t.task_id
                      for t in dbt.children.values() if hasattr(t, "extra_context")}

        @task.branch(pool=WRITER_POOL, priority_weight=1, weight_rule="absolute")
        def plan_build(triggering_asset_events: Any = None, ti: Any = None) -> list[str]:
            """Follow only the dbt nodes the changed landing tables reach (all of them on a manual run).

            A branch: the scheduler marks the other nodes skipped without starting them.
            """
            from ingestion.pipeline import plan_build as plan

            changed = sorted({a.name.removeprefix("landed_") for a in (triggering_asset_events or {})})
            p = plan(settings(), changed)
            ti.xcom_push(key="plan", value=p)
            selected = node_tasks.values() if p["full"] else [node_tasks[n] for n in p["nodes"] if n in node_tasks]
            return [*sorted(selected), "publish_warehouse"]

        @task(pool=WRITER_POOL, outlets=[published_asset(cfg)], trigger_rule="none_failed",
              priority_weight=1, weight_rule="absolute")
        def publish_warehouse(ti: Any = None) -> dict[str, Any]:
            """Copy the marts to a new read-only file and swap it in (readers never see a half build)."""
            from ingestion.pipeline import finish_build, publish

            c = settings()
            plan = ti.xcom_pull(task_ids="plan_build", key="plan")
            published_at = publish(c, plan["build_id"])
            finish_build(c, plan["build_id"], "success", plan["reason"], published_at)
            return {"build_id": plan["build_id"], "published_path": str(c.published_path)}

        @task(trigger_rule="one_failed", retries=0)
        def record_failed_build(ti: Any = None) -> None:
            """A dbt node or test failed: the published warehouse stays as it was."""
            from ingestion.pipeline import finish_build

            plan = ti.xcom_pull(task_ids="plan_build", key="plan")
            if plan:
                finish_build(settings(), plan["build_id"], "failed", "a dbt node or test failed; see the run")
            raise RuntimeError("dbt build failed; the published warehouse is unchanged")

        plan = plan_build()
        published = publish_warehouse()
        # the plan is directly upstream of every node, so that it can skip any of them
        plan >> [*dbt.children.values(), published]
        dbt >> published
        [dbt, published] >> record_failed_build()

    return _build()
