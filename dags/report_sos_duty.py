"""
### SOS duty summary

**What:** after each published build, summarises the SOS-point alerts landed since the
last summary, threats to health or life first, in Polish and readable on a phone; each
summary is kept (`reports/duty/<published time>_<build>/`, listed in
`reports/duty/index.html`), and the duty officer is mailed when there is a new
`confirmed_health_life` alert. Streamed SOS events
(Redis or REST) reach it within minutes of the press.

**Triggered by:** the `published_warehouse` asset (every successful build).

**Ask:** the data-engineering team (owner `data-engineering`); the duty officer of the
City Guard's monitoring centre reads it.
"""

from airflow.sdk import task

from ingestion.config import settings
from orchestration.dag_builders import after_publish_dag


@after_publish_dag("report_sos_duty", __doc__, tags=["report", "sos", "duty"])
def report_sos_duty():
    @task
    def summarise_new_alerts(run_id=None) -> dict:
        from orchestration.alerts import send_report
        from serving.reports import commit_duty_mark, sos_duty_summary

        cfg = settings()
        path, threats, mark = sos_duty_summary(cfg, run_id=run_id)
        if threats:
            points = ", ".join(sorted({t["point_id"] for t in threats}))
            from serving.polish import plural

            alerts = plural(len(threats), "nowy alarm", "nowe alarmy", "nowych alarmów")
            send_report(cfg.report_email, path, f"[KSP] SOS: zagrożenie zdrowia lub życia – {alerts} ({points})")
        commit_duty_mark(cfg, mark)
        return {"report": str(path), "threats": len(threats)}

    summarise_new_alerts()


report_sos_duty()
