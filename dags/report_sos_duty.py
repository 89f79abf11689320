"""
### SOS duty summary

**What:** after each published build, summarises the SOS-point alerts landed since the
last summary (`reports/duty/latest/`), threats to health or life first, and mails the
duty officer when there is a new `confirmed_health_life` alert. Streamed SOS events
(Redis or REST) reach it within minutes of the press.

**Triggered by:** the `published_warehouse` asset (every successful build).

**Ask:** the data-engineering team (owner `data-engineering`); the duty officer of the
City Guard's monitoring centre reads it.
"""

from airflow.sdk import dag, task

from ingestion.config import settings
from orchestration.assets import published_asset
from orchestration.dag_builders import START, default_args


@dag(
    dag_id="report_sos_duty",
    schedule=[published_asset(settings())],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(settings()),
    tags=["report", "sos", "duty"],
    doc_md=__doc__,
)
def report_sos_duty():
    @task
    def summarise_new_alerts() -> dict:
        from orchestration.alerts import send_mail
        from serving.reports import commit_duty_mark, sos_duty_summary

        cfg = settings()
        path, threats, mark = sos_duty_summary(cfg)
        if threats:
            points = ", ".join(sorted({t["point_id"] for t in threats}))
            send_mail(cfg.report_email, f"[KSP] SOS: {len(threats)} new alert(s), threat to health or life ({points})",
                      (path / "report.html").read_text())
        commit_duty_mark(cfg, mark)
        return {"report": str(path), "threats": len(threats)}

    summarise_new_alerts()


report_sos_duty()
