"""
### Check that every source keeps arriving

**What:** `dbt source freshness` on the landed tables; the thresholds (`warn_after`,
`error_after`) sit beside each source in `dbt/models/staging/<source>/_<source>__sources.yml`.
Warnings go to the log; a source past `error_after` fails the task, which retries
and then mails the data-engineering address.

**Triggered by:** the calendar, daily at 07:00 Europe/Warsaw.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from ingestion.airflow_dags import START, default_args
from ingestion.assets import WRITER_POOL
from ingestion.config import settings


@dag(
    dag_id="check_source_freshness",
    schedule=CronTriggerTimetable("0 7 * * *", timezone="Europe/Warsaw"),
    start_date=START,
    catchup=False,
    is_paused_upon_creation=settings().calendar_paused,
    max_active_runs=1,
    default_args=default_args(settings()),
    tags=["operations", "freshness"],
    doc_md=__doc__,
)
def check_source_freshness():
    @task(pool=WRITER_POOL)  # dbt opens the warehouse file for writing
    def dbt_source_freshness() -> list[dict]:
        from ingestion.operations import check_freshness

        return check_freshness(settings())

    dbt_source_freshness()


check_source_freshness()
