"""
### Retention purge of raw personal data

**What:** deletes delivered bytes older than `KSP_RETENTION_DAYS` (default 90): the
archived and refused copies of deliveries (free-text notes name people; a refused ANPR
file may hold plates) and streamed SOS hours, and clears the raw values of
quarantined rows. The ledger keeps each delivery's hash, counts and the purge time;
landed data, scrubbed at the door, stays. Idempotent.

**Triggered by:** the calendar, daily at 02:30 Europe/Warsaw.

**Ask:** the data-engineering team (owner `data-engineering`); retention policy: the
city's data protection officer.
"""

from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from ingestion.airflow_dags import START, default_args
from ingestion.assets import WRITER_POOL
from ingestion.config import settings


@dag(
    dag_id="purge_personal_data",
    schedule=CronTriggerTimetable("30 2 * * *", timezone="Europe/Warsaw"),
    start_date=START,
    catchup=False,
    is_paused_upon_creation=settings().calendar_paused,
    max_active_runs=1,
    default_args=default_args(settings()),
    tags=["operations", "privacy", "retention"],
    doc_md=__doc__,
)
def purge_personal_data():
    @task(pool=WRITER_POOL)  # writes the ledger
    def purge_expired_raw_data() -> dict[str, int]:
        from ingestion.operations import purge_personal_data as purge

        return purge(settings())

    purge_expired_raw_data()


purge_personal_data()
