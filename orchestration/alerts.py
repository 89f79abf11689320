"""Failure notices and reports by e-mail, through Airflow's SMTP provider.

Every task's ``on_failure_callback`` (after its last retry) writes the failure to the
log and mails the data-engineering address; reports go to the security department.
Mail goes through the Airflow connection ``smtp_default`` (``AIRFLOW_CONN_SMTP_DEFAULT``,
e.g. ``smtp://mail.krakow.local:25?disable_ssl=true&disable_tls=false``). A laptop
without that connection logs the notice and carries on: an undeliverable notice must
never hide the failure it reports.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingestion.config import settings

log = logging.getLogger(__name__)
SENDER = "ksp-airflow@localhost"


def _smtp_configured(conn_id: str) -> bool:
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception:  # the SDK raises its own not-found error class
        return False
    return True


def send_mail(to: str, subject: str, body_html: str, files: Sequence[str] = ()) -> bool:
    """Send one message; False (and a log line) when no SMTP connection is configured."""
    cfg = settings()
    if not _smtp_configured(cfg.smtp_conn_id):
        log.warning("no Airflow connection %r: not mailing %r to %s", cfg.smtp_conn_id, subject, to)
        return False
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=cfg.smtp_conn_id) as hook:
        hook.send_email_smtp(to=to, subject=subject, html_content=body_html, from_email=SENDER,
                             files=list(files))
    log.info("mailed %r to %s", subject, to)
    return True


def send_report(to: str, folder: Path | str, subject: str) -> bool:
    """Mail a rendered report: its HTML in the body, its PDF attached (serving.render)."""
    folder = Path(folder)
    return send_mail(to, subject, (folder / "raport.html").read_text(encoding="utf-8"), [str(folder / "raport.pdf")])


def inbox_notice(entries: Sequence[dict[str, Any]]) -> str:
    """One alert line for files the inbox cannot take (``ingestion.inbox.unclaimable``)."""
    return f"ALERT inbox: {len(entries)} file(s) not taken: " + "; ".join(
        f"{e['path']}: {e['reason']}" for e in entries)


def log_inbox_alert(entries: Sequence[dict[str, Any]], logger: logging.Logger | None = None) -> None:
    """The watcher's alert: an error line in the triggerer's log (no mail from the
    triggerer's event loop; the daily ``check_source_freshness`` run mails)."""
    if entries:
        (logger or log).error("%s", inbox_notice(entries))


def notify_failure(context: dict[str, Any]) -> None:
    """``on_failure_callback``: the task failed after its last retry."""
    ti = context["ti"]
    exc = context.get("exception")
    where = f"{ti.dag_id}.{ti.task_id} (run {ti.run_id}, try {ti.try_number})"
    log.error("FAILED after the last retry: %s: %s", where, exc)
    body = (
        f"<p>Task <b>{html.escape(where)}</b> failed after its last retry.</p>"
        f"<pre>{html.escape(str(exc))[:4000]}</pre>"
        f"<p>Log: {html.escape(str(getattr(ti, 'log_url', '') or 'see the Airflow UI'))}</p>"
    )
    try:
        send_mail(settings().alert_email, f"[KSP] failed: {ti.dag_id}.{ti.task_id}", body)
    except Exception:  # a broken mail server must not mask the task's own failure
        log.exception("could not mail the failure notice for %s", where)
