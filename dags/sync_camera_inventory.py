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

from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from ingestion.airflow_dags import START, default_args
from ingestion.assets import WRITER_POOL
from ingestion.config import settings


@dag(
    dag_id="sync_camera_inventory",
    schedule=CronTriggerTimetable("0 6 * * *", timezone="Europe/Warsaw"),
    start_date=START,
    catchup=False,
    is_paused_upon_creation=settings().calendar_paused,
    max_active_runs=1,
    default_args=default_args(settings()),
    tags=["operations", "deadline", "cameras"],
    doc_md=__doc__,
)
def sync_camera_inventory():
    @task(pool=WRITER_POOL)  # reads the ledger, which ingestion holds while it writes
    def check_registers_current(logical_date=None) -> dict[str, str]:
        from ingestion.operations import expect_recent_snapshots

        return expect_recent_snapshots(settings(), ["cameras_wbizk", "cameras_zdmk"], logical_date.date())

    check_registers_current()


sync_camera_inventory()
