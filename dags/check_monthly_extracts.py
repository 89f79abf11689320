"""
### Deadline for the monthly Police and City Guard extracts

**What:** checks that last month's KMP Kraków extract (`kmp_zdarzenia_YYYY-MM.csv`) and
City Guard extract (`sm_wykroczenia_YYYY-MM.csv`) have landed. A missing one fails the
task; it retries with backoff (the file may still come) and then mails the
data-engineering address: a deadline alert for late data.

**Triggered by:** the calendar, the 10th of each month at 08:00 Europe/Warsaw (the
agreed delivery deadline). Backfill past months with `airflow backfill create`.

**Ask:** the data-engineering team (owner `data-engineering`); the extracts come from
KMP Kraków and the City Guard's records office.
"""

from airflow.sdk import task

from ingestion.config import settings
from orchestration.assets import WAREHOUSE_QUEUE, WRITER_POOL
from orchestration.dag_builders import calendar_dag


@calendar_dag("check_monthly_extracts", "0 8 10 * *", __doc__,
              tags=["operations", "deadline", "police", "city_guard"], retries=3)
def check_monthly_extracts():
    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE)  # reads the ledger, which ingestion holds while it writes
    def expect_last_months_extracts(logical_date=None) -> dict[str, str]:
        from orchestration.calendar import expect_periods, previous_month

        month = previous_month(logical_date.date())
        return expect_periods(settings(), {"police": month, "city_guard": month})

    expect_last_months_extracts()


check_monthly_extracts()
