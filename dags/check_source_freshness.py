"""
### Check that every source keeps arriving

**What:** `dbt source freshness` on the landed tables; the thresholds (`warn_after`,
`error_after`) sit beside each source in `dbt/models/staging/<source>/_<source>__sources.yml`.
Warnings go to the log; a source past `error_after` fails the task, which retries
and then mails the data-engineering address. Beside it, `inbox_unclaimable` fails (and
so mails) while the inbox holds files no claim will take: symlinks, dot-files, partial
uploads older than `KSP_PARTIAL_GRACE_SECONDS`, unknown source folders (`ksp status`
lists them too), and `held_deliveries` fails while a delivery a build failed on is held
out of the published marts (its source at its last good state) until it is released or
retracted.

**Triggered by:** the calendar, daily at 07:00 Europe/Warsaw.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import task

from ingestion.config import settings
from orchestration.assets import WAREHOUSE_QUEUE, WRITER_POOL
from orchestration.dag_builders import calendar_dag


@calendar_dag("check_source_freshness", "0 7 * * *", __doc__,
              tags=["operations", "freshness"])
def check_source_freshness():
    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE)  # dbt opens the warehouse file for writing
    def dbt_source_freshness() -> list[dict]:
        from orchestration.calendar import check_freshness

        return check_freshness(settings())

    # reads no DuckDB file; milliseconds, and the pool keeps the DAG's rule simple
    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE)
    def inbox_unclaimable() -> int:
        from orchestration.calendar import check_inbox

        return check_inbox(settings())

    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE)  # reads the ledger only
    def held_deliveries() -> int:
        from orchestration.calendar import check_held

        return check_held(settings())

    dbt_source_freshness()
    inbox_unclaimable()
    held_deliveries()


check_source_freshness()
