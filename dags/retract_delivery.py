"""
### Retract (or release) one delivery

**What:** takes a loaded delivery out of the current view (`action` `retract`), or puts a
held or retracted one back (`release`), with an audit record in `ops.withheld` (who,
when, why): the wrong file that loaded, a delivery its sender withdrew, or one the
build held because a dbt test failed on it. Its bytes and ledger row stay; its period
falls back to the previous correction, if any. The same as `ksp retract` / `ksp release`.

**Triggered by:** hand, from the UI ("Trigger DAG" with parameters) or
`airflow dags trigger retract_delivery --conf '{"delivery": "kmp_zdarzenia_2025-03.csv", "reason": "sent by mistake"}'`.
It updates `landed_<source>`, so the warehouse rebuilds without (or with) it.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

import logging

from airflow.sdk import AssetAlias, Param, dag, task

from ingestion.config import settings
from orchestration.assets import WAREHOUSE_QUEUE, WRITER_POOL, landed_asset
from orchestration.dag_builders import START, default_args

cfg = settings()
log = logging.getLogger(__name__)


@dag(
    dag_id="retract_delivery",
    schedule=None,
    is_paused_upon_creation=False,  # run on demand: a paused DAG would queue the request forever
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(cfg, retries=1),
    tags=["operations", "ingestion"],
    doc_md=__doc__,
    params={
        "delivery": Param("", type="string", minLength=1,
                          description="the delivered file name, or its delivery id (8+ first characters)"),
        "action": Param("retract", enum=["retract", "release"], description="out of, or back into, the current view"),
        "reason": Param("", type="string", minLength=1, description="why: kept in the audit record"),
    },
)
def retract_delivery():
    # an alias, so that only the delivery's own source gets a landed event (and a rebuild)
    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE, outlets=[AssetAlias("retracted_landing")])
    def change_current_view(params=None, dag_run=None, outlet_events=None) -> dict:
        from ingestion.landing import release_delivery, retract

        by = f"airflow:{getattr(dag_run, 'triggering_user_name', None) or 'unknown user'}"
        act = retract if params["action"] == "retract" else release_delivery
        d = act(settings(), params["delivery"], reason=params["reason"], by=by)
        log.info("%s: %s (%s, %s) by %s: %s", params["action"], d["file_name"], d["source"],
                 d["delivery_id"][:12], by, params["reason"])
        outlet_events[AssetAlias("retracted_landing")].add(landed_asset(settings(), d["source"]))
        return {"action": params["action"], "source": d["source"], "file_name": d["file_name"],
                "delivery_id": d["delivery_id"]}

    change_current_view()


retract_delivery()
