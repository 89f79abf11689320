"""
### Re-run one delivery

**What:** sends a refused delivery (or, with `include_quarantined`, a loaded one whose
rows were quarantined) through ingestion again, after a parser, suite or taxonomy fix:
the kept bytes go back to `received/`, the earlier outcome is kept in `ops.replays`,
and the ledger's period rules apply as for any delivery. The same as `ksp replay`.

**Triggered by:** hand, from the UI ("Trigger DAG" with parameters) or
`airflow dags trigger replay_delivery --conf '{"source": "police", "file_name": "kmp_zdarzenia_2025-03.csv"}'`.
A landed replay updates `landed_<source>`, so the warehouse rebuilds.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

import logging

from airflow.sdk import AssetAlias, Param, dag, task

from ingestion.config import settings
from orchestration.assets import SOURCE_NAMES, WAREHOUSE_QUEUE, WRITER_POOL, landed_asset
from orchestration.dag_builders import START, default_args

cfg = settings()
log = logging.getLogger(__name__)


@dag(
    dag_id="replay_delivery",
    schedule=None,
    is_paused_upon_creation=False,  # run on demand: a paused DAG would queue the request forever
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(cfg, retries=1),
    tags=["operations", "ingestion"],
    doc_md=__doc__,
    params={
        "source": Param("police", enum=list(SOURCE_NAMES), description="the delivery's source"),
        "file_name": Param(None, type=["null", "string"], description="the delivered file name; empty: all"),
        "include_quarantined": Param(False, type="boolean",
                                     description="also loaded deliveries that had quarantined rows"),
    },
)
def replay_delivery():
    # an alias, so that only the replayed source's landed asset gets an event (and a rebuild)
    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE, outlets=[AssetAlias("replayed_landing")])
    def replay(params=None, outlet_events=None) -> list[dict]:
        from airflow.sdk.exceptions import AirflowSkipException

        from ingestion.landing import replay as run_replay
        from ingestion.logs import log_results

        results = run_replay(settings(), source=params["source"], file_name=params["file_name"] or None,
                             include_quarantined=params["include_quarantined"])
        log_results(results, log)
        if not any(r.status == "loaded" for r in results):
            raise AirflowSkipException(f"nothing replayed and loaded for {params}")
        outlet_events[AssetAlias("replayed_landing")].add(landed_asset(settings(), params["source"]))
        return [r.as_dict() for r in results]

    replay()


replay_delivery()
