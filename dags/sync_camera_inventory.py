"""
### Daily camera-inventory sync check

**What:** checks that both camera registers are current: the Security Department's
inventory (`punkty_kamerowe_YYYY-MM-DD.xlsx`) and the road authority's
(`kamery_zdmk_YYYY-MM-DD.geojson`) must each have a snapshot no older than
`KSP_CAMERA_INVENTORY_MAX_AGE_DAYS` (default 35: the registers are exported monthly).
A stale register fails the task, which retries and then mails the data-engineering
address: every camera judgement downstream depends on knowing where cameras are.

**Triggered by:** the calendar, daily at 06:00 Europe/Warsaw.

**Ask:** the data-engineering team (owner `data-engineering`); the registers come from
WBiZK and ZDMK.
"""

from airflow.sdk import task

from ingestion.config import settings
from orchestration.assets import WAREHOUSE_QUEUE, WRITER_POOL
from orchestration.dag_builders import calendar_dag


@calendar_dag("sync_camera_inventory", "0 6 * * *", __doc__,
              tags=["operations", "deadline", "cameras"])
def sync_camera_inventory():
    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE)  # reads the ledger, which ingestion holds while it writes
    def check_registers_current(logical_date=None) -> dict[str, str]:
        from orchestration.calendar import expect_recent_snapshots

        return expect_recent_snapshots(settings(), ["cameras_wbizk", "cameras_zdmk"], logical_date.date())

    check_registers_current()


sync_camera_inventory()
