"""
### Monthly report for the Security Department

**What:** the previous calendar month from the published warehouse, in Polish: key
figures against the same month a year earlier, interventions over 24 months, a map of
Kraków (cameras, hot spots, recommended moves), the camera effect by kind of place,
faded cameras, displacement, costs and an appendix on methods (docs/reports.md).
Written to `reports/monthly/YYYY-MM/` (PDF, HTML, figures, CSV, `meta.json` with the
run and build ids; swapped in atomically) and mailed to the Security Department with
the PDF attached. Re-running a month rewrites the same report, so
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
    def write_monthly_report(logical_date=None, run_id=None) -> str:
        from datetime import date

        from orchestration.alerts import send_report
        from orchestration.calendar import previous_month
        from serving.polish import month_name
        from serving.reports import monthly_report

        cfg = settings()
        month = date.fromisoformat(previous_month(logical_date.date()) + "-01")
        path = monthly_report(cfg, month, run_id=run_id)
        send_report(cfg.report_email, path, f"[KSP] Monitoring wizyjny – raport miesięczny, {month_name(month)}")
        return str(path)

    write_monthly_report()


report_security_monthly()
