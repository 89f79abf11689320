"""``make demo``: a real embedded Airflow running the platform on sample deliveries.

Starts ``airflow standalone`` (SQLite metadata, LocalExecutor, scheduler, triggerer,
DAG processor and the API server with the UI on localhost:8080) on ``AIRFLOW_HOME``
under the data root, drops the sample deliveries into the inbox as a delivering
system would (write to a temporary name, then rename), waits until the marts are
published, prints what happened and keeps Airflow running until Ctrl-C or
``make stop``.

A demo after an interrupted one finishes its work (:func:`resume`: the claims left in
``received/``, a build behind the loads) and judges only the DAG runs queued since it
started; :func:`reset` (``make reset``) forgets Airflow's state and keeps the data.

The demo also runs a mail catcher on localhost (:class:`MailFolder`): Airflow's
``smtp_default`` connection points at it, so the SOS duty summary and the two reports
the demo renders through their DAGs (the last month's report and the last survey
wave's) arrive as ``.eml`` files in ``data/mail/``, which any mail client opens.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingestion.config import REPO_ROOT, Settings
from orchestration.assets import WRITER_POOL

USER = "admin"
# sqlite3's busy timeout for Airflow's metadata database (airflow_env)
SQLITE_CONNECT_ARGS = {"timeout": 60}


def api_port() -> int:
    return int(os.environ.get("KSP_AIRFLOW_PORT", "8080"))


def api_url() -> str:
    return f"http://localhost:{api_port()}"


class MailFolder:
    """aiosmtpd handler: every message received becomes one ``.eml`` file in ``folder``
    (written aside, then renamed), so the demo's mail can be opened in any mail client."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        n = len(list(self.folder.glob("*.eml"))) + 1
        path = self.folder / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{n:03d}.eml"
        tmp = path.with_suffix(".part")
        tmp.write_bytes(envelope.content)
        os.replace(tmp, path)
        return "250 Message accepted for delivery"

    def messages(self) -> list[tuple[Path, email.message.EmailMessage]]:
        return [(path, email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
                for path in sorted(self.folder.glob("*.eml"))]


def start_mail_catcher(cfg: Settings) -> tuple[Any, MailFolder]:
    """An SMTP server on a free localhost port that keeps what it receives in ``data/mail/``."""
    import logging
    import socket

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = MailFolder(cfg.data_dir / "mail")
    controller = Controller(folder, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, folder


def airflow_env(cfg: Settings, smtp_port: int | None = None) -> dict[str, str]:
    """The embedded default: SQLite metadata under the data root, few worker slots on 2 cores."""
    home = cfg.airflow_home
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    defaults = {
        "AIRFLOW_HOME": str(home),
        "KSP_DATA_DIR": str(cfg.data_dir),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__API__PORT": str(api_port()),
        # the UI and API on this machine only (KSP_API_HOST), not on every interface
        "AIRFLOW__API__HOST": cfg.api_host,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url()}/execution/",
        "GX_ANALYTICS_ENABLED": "False",
        # the demo replays the simulator's history: the calendar DAGs (deadlines for today's
        # deliveries, reports) start paused; unpause or backfill them in the UI
        "KSP_CALENDAR_PAUSED": "1",
    }
    if smtp_port:  # the demo's mail catcher
        defaults["AIRFLOW_CONN_SMTP_DEFAULT"] = f"smtp://127.0.0.1:{smtp_port}?disable_ssl=true&disable_tls=true"
    for key, value in defaults.items():
        env.setdefault(key, value)
    if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        # SQLite has one writer: a CLI command (a backfill) waits for the scheduler's
        # transaction instead of failing with "database is locked" after 5 s
        env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "simulator.demo.SQLITE_CONNECT_ARGS")
    return env


def _password(cfg: Settings) -> str:
    """The demo's Airflow password, in the simple auth manager's password file, which
    only its owner may read (0600, also for a file an older demo left readable)."""
    path = cfg.airflow_home / "passwords.json"
    if path.exists():
        path.chmod(0o600)
        return json.loads(path.read_text())[USER]
    password = secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({USER: password}))
    path.chmod(0o600)  # whatever the umask
    return password


def prepare_airflow(cfg: Settings, env: dict[str, str]) -> None:
    """Migrate the metadata database and create the single-writer pool (both idempotent)."""
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([str(airflow), "pools", "set", WRITER_POOL, "1",
                    "DuckDB allows one writing process per file: every writer task runs here"],
                   env=env, check=True, capture_output=True)


def _pidfile(cfg: Settings) -> Path:
    return cfg.airflow_home / "standalone.pid"


def stop(cfg: Settings) -> int:
    pidfile = _pidfile(cfg)
    if not pidfile.exists():
        print("no demo Airflow is running")
        return 0
    pid = int(pidfile.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(60):
            time.sleep(0.5)
            os.killpg(pid, 0)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pidfile.unlink(missing_ok=True)
    print(f"stopped the demo Airflow (process group {pid})")
    return 0


def _healthy() -> bool:
    try:
        with urllib.request.urlopen(f"{api_url()}/api/v2/monitor/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def deliver(batch: Path, inbox: Path) -> list[str]:
    """Copy each file of the sources the platform ingests into the inbox under a temporary
    name, then rename it in, as a delivering system should."""
    from ingestion.sources import SOURCES

    names = []
    for src in sorted(p for p in batch.glob("*/*") if p.parent.name in SOURCES):
        target_dir = inbox / src.parent.name
        target_dir.mkdir(parents=True, exist_ok=True)
        tmp = target_dir / f".{src.name}.part"
        shutil.copyfile(src, tmp)
        os.replace(tmp, target_dir / src.name)
        names.append(f"{src.parent.name}/{src.name}")
    return names


def _settled(cfg: Settings, started: float, since: datetime | None = None) -> tuple[bool, dict[str, Any]]:
    """Done when no delivery waits and the last successful build is newer than every load
    (and, for an announced delivery, a load newer than ``since`` happened)."""
    from ingestion.sources import SOURCES
    from serving import status

    try:
        waiting = [p for s in SOURCES for p in (cfg.inbox_dir / s).glob("*") if p.is_file()] + \
                  [p for p in cfg.received_dir.glob("*/*/*") if p.is_file()]
    except FileNotFoundError:  # a claim folder emptied by the ingest task while we looked
        return False, {}
    if waiting:
        return False, {}
    try:
        report = status.collect(cfg, wait_seconds=0)
    except Exception:
        return False, {}
    loaded = [e["finished_at"] for e in report["ledger"] if e["status"] == "loaded"]
    builds = report["builds"]
    # the status report renders times as DuckDB does (UTC, "YYYY-MM-DD HH:MM:SS.ffffff+00")
    if not loaded or not builds or (since is not None and max(loaded) < f"{since.astimezone(UTC):%Y-%m-%d %H:%M:%S}"):
        return False, report
    last = builds[0]
    done = last["status"] == "success" and last["finished_at"] >= max(loaded)
    return done or (last["status"] == "failed" and last["finished_at"] >= max(loaded)), report


def start_airflow(cfg: Settings, timeout_s: float = 600.0,
                  smtp_port: int | None = None) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """Start ``airflow standalone`` on ``cfg``'s home and wait until every watcher is registered.

    Returns the process (its own process group, stopped by :func:`stop`) and its environment.
    """
    started = time.monotonic()
    cfg.ensure_dirs()
    cfg.airflow_home.mkdir(parents=True, exist_ok=True)
    if _pidfile(cfg).exists():
        stop(cfg)
    env = airflow_env(cfg, smtp_port)
    _password(cfg)
    print(f"[demo] preparing Airflow metadata database in {cfg.airflow_home}", flush=True)
    prepare_airflow(cfg, env)
    log_path = cfg.airflow_home / "standalone.log"
    print(f"[demo] starting Airflow standalone (log: {log_path})", flush=True)
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), "standalone"], env=env,
                                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=cfg.data_dir)
    _pidfile(cfg).write_text(str(proc.pid))
    try:
        while not _healthy():
            if proc.poll() is not None:
                raise RuntimeError(f"Airflow exited early; see {log_path}")
            if time.monotonic() - started > timeout_s:
                raise TimeoutError("Airflow did not become healthy")
            time.sleep(2)
        print(f"[demo] Airflow is up after {time.monotonic() - started:.0f}s", flush=True)
        _wait_for_watchers(cfg, env, started, timeout_s)
    except BaseException:
        stop(cfg)
        raise
    return proc, env


def run_demo(cfg: Settings, *, keep_running: bool = True, timeout_s: float = 600.0) -> int:
    started = time.monotonic()
    # the demo judges only the DAG runs queued from now on: a run an earlier demo left
    # failed in the metadata database must not fail this one (and every later one)
    since = datetime.now(UTC)
    catcher, mail = start_mail_catcher(cfg)
    print(f"[demo] mail catcher on 127.0.0.1:{catcher.port}: the platform's mail lands in {mail.folder}",
          flush=True)
    try:
        proc, env = start_airflow(cfg, timeout_s, smtp_port=catcher.port)
    except (RuntimeError, TimeoutError) as e:
        print(f"[demo] {e}", file=sys.stderr)
        catcher.stop()
        return 1
    password = _password(cfg)
    log_path = cfg.airflow_home / "standalone.log"
    try:
        resume(cfg, password)
        from simulator import install_places, simulate

        sim = cfg.data_dir / "simulated"
        simulate(cfg, sim, scale="demo", seed=1, faults=True, progress=False)
        install_places(cfg, sim)
        print(f"[demo] simulated Kraków (demo scale, with faults) into {sim}", flush=True)
        report: dict[str, Any] = {}
        for label, batch in (("first", sim / "inbox"), ("late", sim / "late" / "inbox")):
            delivered = deliver(batch, cfg.inbox_dir)
            print(f"[demo] {label} batch: delivered {len(delivered)} files into {cfg.inbox_dir}; the "
                  "triggerer claims them and the ingestion DAGs start", flush=True)
            code, report = wait_until_published(cfg, env, proc, log_path, started, timeout_s, runs_since=since)
            if code:
                return code
            print(f"[demo] marts published {time.monotonic() - started:.0f}s after start", flush=True)
        # an SOS press announced as an event through the REST API, as the SOS system does
        announced_at = datetime.now(UTC)
        event = _announce_sos_event(cfg, password)
        arrived = time.monotonic()
        code, report = wait_until_published(cfg, env, proc, log_path, started, timeout_s, since=announced_at,
                                             runs_since=since)
        if code:
            return code
        print(f"[demo] SOS event {event} announced through the REST API reached the published marts "
              f"{time.monotonic() - arrived:.0f}s later", flush=True)
        code = render_reports(cfg, env, mail)
        print()
        print(summary(cfg, report, password))
        print()
        print(mailbox_listing(cfg, mail))
        if code or report["builds"][0]["status"] != "success":
            return 1
        if not keep_running:
            return 0
        print("\n[demo] Airflow keeps running: Ctrl-C here, or `make stop` from another shell.")
        with contextlib.suppress(KeyboardInterrupt):
            proc.wait()
        return 0
    finally:
        if not keep_running or proc.poll() is None:
            stop(cfg)
        catcher.stop()


def report_dates(cfg: Settings) -> dict[str, datetime]:
    """The calendar's logical dates for the newest complete month and the newest survey wave
    in the published warehouse: the runs the calendar would have made when they came due."""
    from zoneinfo import ZoneInfo

    from ingestion.duck import connect

    warsaw = ZoneInfo("Europe/Warsaw")
    con = connect(cfg.published_path, cfg, read_only=True)
    try:
        last_day, = con.execute("select max(occurred_date) from marts.fct_incident").fetchone()
        # the newest wave: by year, then autumn (J) after spring (W)
        wave, = con.execute("select wave from marts.mart_district_safety "
                            "order by wave_year desc, wave like '%J' desc limit 1").fetchone() or (None,)
    finally:
        con.close()
    # the 3rd of the month after the newest month the data cover to its last day
    due = (last_day + timedelta(days=1)).replace(day=1)
    dates = {"report_security_monthly": datetime(due.year, due.month, 3, 7, tzinfo=warsaw)}
    if wave:  # spring waves (W) are due on 15 July, autumn waves (J) on 15 January of the next year
        year = int(wave[:4])
        due = datetime(year, 7, 15, 8, tzinfo=warsaw) if wave.endswith("W") else datetime(year + 1, 1, 15, 8,
                                                                                          tzinfo=warsaw)
        dates["check_survey_wave"] = due
    return dates


def render_reports(cfg: Settings, env: dict[str, str], mail: MailFolder) -> int:
    """Run the monthly report's and the survey wave's DAGs once each, as the calendar would
    have on their due dates (``airflow dags test``: the run shows in the UI; the DAGs stay
    paused, so the calendar does not also run them for today)."""
    airflow = str(Path(sys.executable).parent / "airflow")
    code = 0
    for dag_id, when in report_dates(cfg).items():
        before = len(mail.messages())
        began = time.monotonic()
        out = subprocess.run([airflow, "dags", "test", dag_id, when.isoformat()], env=env, capture_output=True,
                             text=True, check=False, cwd=cfg.data_dir)
        received = len(mail.messages()) - before
        if out.returncode or not received:
            print(f"[demo] {dag_id} for {when:%Y-%m-%d} failed ({out.returncode}, {received} mail):\n"
                  f"{out.stdout[-2000:]}{out.stderr[-2000:]}", file=sys.stderr)
            code = 1
            continue
        print(f"[demo] {dag_id} ran for {when:%Y-%m-%d} (Warsaw time) in {time.monotonic() - began:.0f}s "
              "and mailed its report", flush=True)
    return code


def mailbox_listing(cfg: Settings, mail: MailFolder) -> str:
    """What the mail catcher received: one line per message with its attachments."""
    messages = mail.messages()
    lines = [f"Mail received by the demo's catcher ({len(messages)} in {mail.folder}; open the .eml files "
             "in a mail client):"]
    for path, msg in messages:
        attached = ", ".join(a.get_filename() or "?" for a in msg.iter_attachments()) or "-"
        lines.append(f"  {path.name}  to {msg['To']}  {msg['Subject']}  [attached: {attached}]")
    reports = sorted(str(p.parent.relative_to(cfg.reports_dir)) for p in cfg.reports_dir.glob("*/*/raport.pdf"))
    if reports:
        lines.append(f"Reports in {cfg.reports_dir}: " + ", ".join(reports))
    return "\n".join(lines)


def _announce_sos_event(cfg: Settings, password: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ingestion.announce import announce_rest, rest_token

    now = datetime.now(ZoneInfo("Europe/Warsaw")).replace(microsecond=0)
    event = {"event_id": f"SOS-DEMO-{now:%Y%m%d%H%M%S}", "point_id": "SOS-01", "pressed_at": now.isoformat(),
             "call_duration_s": 95, "classification": "confirmed_health_life", "camera_point": "WBZK-0001",
             "operator_note": "demo: osoba nieprzytomna na przystanku"}
    announce_rest(api_url(), rest_token(api_url(), USER, password), "sos_alerts", {"event": event})
    print(f"[demo] announced SOS event {event['event_id']} (threat to health or life) through the REST API",
          flush=True)
    return event["event_id"]


def wait_until_published(cfg: Settings, env: dict[str, str], proc: subprocess.Popen[bytes], log_path: Path,
                          started: float, timeout_s: float, since: datetime | None = None, *,
                          runs_since: datetime) -> tuple[int, dict[str, Any]]:
    """Wait until the deliveries are published; fail on a DAG run queued since ``runs_since``
    (this demo's start) that failed, never on an older one."""
    time.sleep(cfg.inbox_poll_seconds + 2)  # let the triggerer claim the batch
    while True:
        done, report = _settled(cfg, started, since)
        if done and _busy_runs(env):
            done = False  # a landing's build is queued or running: wait for it too
        if done:
            return 0, report
        if proc.poll() is not None:
            print(f"[demo] Airflow exited; see {log_path}", file=sys.stderr)
            return 1, report
        failed = _failed_runs(env, runs_since)
        if failed:
            print(f"[demo] DAG runs failed: {', '.join(failed)}; see the Airflow UI and {log_path}",
                  file=sys.stderr)
            return 1, report
        if time.monotonic() - started > timeout_s:
            print("[demo] timed out waiting for the published mart", file=sys.stderr)
            return 1, report
        time.sleep(3)


def metadata_rows(env: dict[str, str], sql: str) -> list[tuple[Any, ...]] | None:
    """Read Airflow's metadata database: SQLite read-only without locking it, or the
    PostgreSQL of a production-like run. None while it cannot be read."""
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if url.startswith("sqlite"):
        import sqlite3

        try:
            con = sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    try:
        with create_engine(url, poolclass=NullPool).connect() as con:
            return [tuple(r) for r in con.execute(text(sql))]
    except SQLAlchemyError:
        return None


def _busy_runs(env: dict[str, str]) -> int:
    """Ingestion or build runs still queued or running, or asset events that will start a build."""
    rows = metadata_rows(env, "select (select count(*) from dag_run where state in ('queued', 'running') "
                          "and (dag_id like 'ingest_%' or dag_id = 'build_warehouse')) + "
                          "(select count(*) from asset_dag_run_queue where target_dag_id = 'build_warehouse')")
    return 1 if rows is None else rows[0][0]


def _failed_runs(env: dict[str, str], since: datetime) -> list[str]:
    """The failed DAG runs queued at or after ``since``: the runs this demo caused (its
    deliveries, its triggers, the runs a restarted scheduler picks up again), not the
    ones an earlier demo left in the metadata database."""
    # Airflow keeps UTC times; SQLite as text "YYYY-MM-DD HH:MM:SS.ffffff", which sorts
    # like the time, PostgreSQL as timestamptz, which compares with that text too
    rows = metadata_rows(env, "select dag_id, run_id from dag_run where state = 'failed' and "
                              f"coalesce(queued_at, start_date) >= '{since.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}'")
    return [f"{d} ({r})" for d, r in rows or []]


def leftovers(cfg: Settings) -> tuple[dict[str, int], bool]:
    """What an interrupted earlier demo (or ``make reset``) left for this one to finish:
    the claimed deliveries per source still in ``received/`` (the triggerer moved them out
    of the inbox, but no ingestion ran before Airflow stopped; nothing else will start one,
    since the inbox watchers see only new files), and whether a build is due because the
    newest load is newer than the last successful build (or no build ever succeeded).

    Files still in the inbox need nothing: the watchers claim them once Airflow is up.
    """
    from ingestion import inbox, ledger
    from ingestion.sources import SOURCES

    claims = {s: n for s in SOURCES if (n := len(inbox.pending(cfg.received_dir / s)))}
    if not cfg.ledger_path.exists():
        return claims, False
    con = ledger.open_for_reading(cfg)
    try:
        newest_load, last_success = con.execute(
            "select (select max(finished_at) from ops.load_ledger where status = 'loaded'), "
            "(select max(finished_at) from ops.builds where status = 'success')").fetchone()
    finally:
        con.close()
    return claims, newest_load is not None and (last_success is None or last_success < newest_load)


def resume(cfg: Settings, password: str) -> list[str]:
    """Start what :func:`leftovers` finds unfinished, through the REST API as an operator
    would: one ``ingest_<source>`` run per source with claims waiting (it lands every
    waiting claim of its source, then the build follows as for any landing), and a
    ``build_warehouse`` run if the loads are ahead of the last successful build.
    Returns the DAG ids triggered."""
    from ingestion.announce import rest_token, trigger_dag_rest

    claims, build_due = leftovers(cfg)
    # the build even when claims wait: claims that turn out duplicates land nothing, and
    # so start no build of their own
    dag_ids = [f"ingest_{s}" for s in sorted(claims)] + (["build_warehouse"] if build_due else [])
    if not dag_ids:
        return []
    token = rest_token(api_url(), USER, password)
    for dag_id in dag_ids:
        trigger_dag_rest(api_url(), token, dag_id)
    waiting = ", ".join(f"{s} {n}" for s, n in sorted(claims.items()))
    print("[demo] picking up what an earlier run left unfinished"
          + (f": claimed deliveries in {cfg.received_dir} ({waiting})" if claims else "")
          + ("; loads newer than the last successful build" if build_due else "")
          + f"; triggered {', '.join(dag_ids)}", flush=True)
    return dag_ids


AIRFLOW_STATE = ("airflow.db", "airflow.db-wal", "airflow.db-shm", "airflow.db-journal", "standalone.log",
                 "standalone.pid", "logs")


def reset(cfg: Settings) -> int:
    """``make reset``: forget Airflow's state (stop the demo's Airflow, then delete its
    metadata database, its logs and pid files) and keep the data: ledger, landing,
    warehouse, published versions, archive, reports. Airflow's history is a cache of
    what the ledger records; a failed run or a stuck queue in it should never take
    ``make clean``, which throws all the data away. Claims left in ``received/`` stay
    too: the next demo lands them (:func:`resume`). The password file and
    ``airflow.cfg`` are kept, so the UI password stays the same."""
    stop(cfg)
    conn = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    if conn and not conn.startswith("sqlite"):
        print(f"the metadata database is not the demo's SQLite ({conn.split('@')[-1]}): left alone")
    removed = []
    for name in AIRFLOW_STATE:
        path = cfg.airflow_home / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(name)
    for stale in cfg.airflow_home.glob("*.pid"):  # what Airflow's own components leave
        stale.unlink()
        removed.append(stale.name)
    kept = [str(p.relative_to(cfg.data_dir)) if p.is_relative_to(cfg.data_dir) else str(p)
            for p in (cfg.ledger_path, cfg.warehouse_path, cfg.published_path, cfg.archive_dir) if p.exists()]
    print(f"reset Airflow's state in {cfg.airflow_home}: removed {', '.join(removed) or 'nothing'}; "
          f"the data stays ({', '.join(kept) or 'none yet'})")
    return 0


def _wait_for_watchers(cfg: Settings, env: dict[str, str], started: float, timeout_s: float) -> None:
    """Deliver only once the DAG processor has registered the DAGs and their watchers."""
    from ingestion.announce import STREAMED_SOURCES
    from ingestion.sources import SOURCES

    want = len(SOURCES) + (len(STREAMED_SOURCES) if cfg.redis_events else 0)

    while time.monotonic() - started < timeout_s:
        rows = metadata_rows(env, "select (select count(*) from dag where not is_stale), "
                              "(select count(*) from asset_watcher)")
        if rows is not None:
            dags, watchers = rows[0]
            if dags >= len(SOURCES) + 1 and watchers >= want:
                print(f"[demo] {dags} DAGs and {watchers} inbox watchers registered", flush=True)
                return
        time.sleep(2)
    raise TimeoutError("the DAG processor did not register the DAGs in time")


def layer_rows(cfg: Settings) -> list[tuple[str, int, int]]:
    """(layer, relations, rows) for landing, staging, intermediate and marts."""
    from ingestion.duck import connect

    con = connect(cfg.warehouse_path, cfg, read_only=True, spatial=True)
    try:
        warehouse = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach '{cfg.ledger_path}' as ledger (read_only)")
        out = []
        for layer, database, schema in (("landing", "ledger", "landing"), ("staging", warehouse, "staging"),
                                        ("intermediate", warehouse, "intermediate"), ("marts", warehouse, "marts")):
            names = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = ? and table_schema = ?",
                [database, schema]).fetchall()]
            rows = sum(con.execute(f'select count(*) from {database}."{schema}"."{n}"').fetchone()[0] for n in names)
            out.append((layer, len(names), rows))
        return out
    finally:
        con.close()


def summary(cfg: Settings, report: dict[str, Any], password: str) -> str:
    import duckdb

    from ingestion.duck import connect
    from serving import status

    lines = [status.render(report), "", "Rows per layer of the warehouse:"]
    for _ in range(20):  # a build queued by the last delivery may hold the warehouse for a moment
        try:
            layers = layer_rows(cfg)
            break
        except duckdb.IOException:
            time.sleep(3)
    else:
        layers = []
        lines.append("  (the warehouse is being rebuilt; see `ksp status` in a minute)")
    lines += [f"  {layer:<13} {n_rel:>3} relations {rows:>10,} rows" for layer, n_rel, rows in layers]
    lines.append("")
    con = connect(cfg.published_path, cfg, read_only=True)
    try:
        lines.append("Camera points installed inside the data window: police incidents within 150 m "
                     "per 30 days, before vs after installation:")
        rows = con.execute("""
            select camera_point_id, location_name,
                   round(sum(incident_count) filter (where period = 'before_install') * 30.0
                     / nullif(sum(days_in_period) filter (where period = 'before_install'), 0), 2) as before,
                   round(sum(incident_count) filter (where period = 'after_install') * 30.0
                     / nullif(sum(days_in_period) filter (where period = 'after_install'), 0), 2) as after,
                   sum(incident_count) as n
            from marts.mart_camera_incidents_monthly group by all
            having before is not null and after is not null
            order by n desc limit 8""").fetchall()
        lines.append(f"  {'point':<10} {'location':<44} {'before':>7} {'after':>7} {'n':>8}")
        for pid, name, before, after, n in rows:
            lines.append(f"  {pid:<10} {name[:44]:<44} {before if before is not None else '-':>7} "
                         f"{after if after is not None else '-':>7} {n or 0:>8}")
    finally:
        con.close()
    lines += [
        "",
        f"Airflow UI:   {api_url()}  (user {USER}, password {password})",
        f"Warehouse:    {cfg.published_path}  (read-only copy of the marts)",
        f"Query it:     .venv/bin/python -c \"import duckdb; print(duckdb.connect('{cfg.published_path}', "
        "read_only=True).sql('from marts.mart_camera_incidents_monthly limit 5'))\"",
        f"Files:        inbox {cfg.inbox_dir}, archive {cfg.archive_dir}, refused {cfg.refused_dir}",
    ]
    return "\n".join(lines)
