"""
### Survey wave: deadline, then the per-wave report

**What:** twice a year, checks that the resident safety survey's wave has landed
(`ankieta_YYYY_wiosna` by mid-July, `ankieta_YYYY_jesien` by mid-January). A late wave
fails the task, which retries and then mails the data-engineering address. When the
wave is there, writes the per-wave report in Polish (feeling unsafe at night by
district with intervals, perceived against recorded safety, places marked as
dangerous; from `marts.mart_district_safety`, districts under 10 respondents
suppressed) to `reports/survey/<wave>/` and mails it, PDF attached, to the security
department.

**Triggered by:** the calendar, 15 January and 15 July at 08:00 Europe/Warsaw.

**Ask:** the data-engineering team (owner `data-engineering`); the survey comes from
the research company contracted by the Security Department.
"""

from airflow.sdk import task

from ingestion.config import settings
from orchestration.assets import WAREHOUSE_QUEUE, WRITER_POOL
from orchestration.dag_builders import calendar_dag


@calendar_dag("check_survey_wave", "0 8 15 1,7 *", __doc__,
              tags=["operations", "deadline", "survey", "report"], retries=3)
def check_survey_wave():
    @task(pool=WRITER_POOL, queue=WAREHOUSE_QUEUE)  # reads the ledger, which ingestion holds while it writes
    def expect_wave(logical_date=None) -> str:
        from orchestration.calendar import expect_periods, survey_wave_due

        wave = survey_wave_due(logical_date.date())
        expect_periods(settings(), {"survey": wave})
        return wave

    @task
    def write_wave_report(wave: str, run_id=None) -> str:
        from orchestration.alerts import send_report
        from serving.reports import survey_wave_report

        cfg = settings()
        path = survey_wave_report(cfg, wave, run_id=run_id)
        send_report(cfg.report_email, path, f"[KSP] Badanie poczucia bezpieczeństwa – fala {wave}")
        return str(path)

    write_wave_report(expect_wave())


check_survey_wave()
