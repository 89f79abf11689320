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

from airflow.sdk import task

from ingestion.config import settings
from orchestration.assets import WAREHOUSE_QUEUE, WRITER_POOL
from orchestration.dag_builders import calendar_dag


@calendar_dag("purge_personal_data", "30 2 * * *", __doc__,
              tags=["operations", "privacy", "retention"])
def purge_personal_data():
    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE)  # writes the ledger
    def purge_expired_raw_data() -> dict[str, int]:
        from ingestion.retention import purge_personal_data as purge

        return purge(settings())

    purge_expired_raw_data()


purge_personal_data()
