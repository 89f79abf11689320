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

from airflow.sdk import task

from ingestion.config import settings
from orchestration.dag_builders import calendar_dag


@calendar_dag("report_security_monthly", "0 7 3 * *", __doc__,
              tags=["report", "security-department"], max_active_runs=2)
def report_security_monthly():
    @task
    def write_monthly_report(logical_date=None) -> str:
        from datetime import date

        from orchestration.alerts import send_mail
        from orchestration.calendar import previous_month
        from serving.reports import monthly_report

        cfg = settings()
        month = date.fromisoformat(previous_month(logical_date.date()) + "-01")
        path = monthly_report(cfg, month)
        send_mail(cfg.report_email, f"[KSP] Monitoring wizyjny – raport {month:%Y-%m}",
                  (path / "report.html").read_text(), sorted(str(p) for p in path.glob("*.csv")))
        return str(path)

    write_monthly_report()


report_security_monthly()
