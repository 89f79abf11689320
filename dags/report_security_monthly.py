"""
### Monthly report for the Security Department

**What:** the previous calendar month from the published warehouse: offences near each
camera point before and after installation, City Guard interventions from camera
observation by category, SOS alerts by classification. Written to
`reports/monthly/YYYY-MM/` (HTML and CSV, swapped in atomically) and mailed to the
Security Department. Re-running a month rewrites the same report, so
`airflow backfill create --dag-id report_security_monthly --from-date ... --to-date ...`
regenerates history safely.

**Triggered by:** the calendar, the 3rd of each month at 07:00 Europe/Warsaw.

**Ask:** the data-engineering team (owner `data-engineering`); content questions to the
Security Department (Wydział Bezpieczeństwa i Zarządzania Kryzysowego).
"""

from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from ingestion.airflow_dags import START, default_args
from ingestion.config import settings


@dag(
    dag_id="report_security_monthly",
    schedule=CronTriggerTimetable("0 7 3 * *", timezone="Europe/Warsaw"),
    start_date=START,
    catchup=False,
    is_paused_upon_creation=settings().calendar_paused,
    max_active_runs=2,
    default_args=default_args(settings()),
    tags=["report", "security-department"],
    doc_md=__doc__,
)
def report_security_monthly():
    @task
    def write_monthly_report(logical_date=None) -> str:
        from datetime import date

        from ingestion.alerts import send_mail
        from ingestion.operations import previous_month
        from ingestion.reports import monthly_report

        cfg = settings()
        month = date.fromisoformat(previous_month(logical_date.date()) + "-01")
        path = monthly_report(cfg, month)
        send_mail(cfg.report_email, f"[KSP] Monitoring wizyjny – raport {month:%Y-%m}",
                  (path / "report.html").read_text(), sorted(str(p) for p in path.glob("*.csv")))
        return str(path)

    write_monthly_report()


report_security_monthly()
