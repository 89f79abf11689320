"""Production Airflow's roles through its REST API (issue 16, item 5), for real.

docker-compose.yml's settings, as compose resolves them, run natively against this
machine's PostgreSQL (no Docker engine here), on a throwaway database: the init
service's entrypoint (``ksp check-settings``) and command (migrate, ``ksp roles sync``,
the first engineer), ``ksp users create`` for a department and a researcher user, one
small DAG run, then a real ``airflow api-server`` with the FAB auth manager, started
once for the module. Each user's token (``POST /auth/token``) is then asked for what
its role may and may not see. PostgreSQL is a service of this machine and of CI:
unreachable, this fails.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration import access
from tests.integration.test_production_settings import STRONG, _resolved_compose

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
PROBE_DAG = "ksp_access_probe"
PROBE_TASK = "count"
PASSWORDS = {"department": "d3p4rtm3nt-5ecur1ty-2026", "researcher": "r3s34rch-4gh-uk3n-2026"}

_DAG_FILE = f'''
"""One task that logs a line and returns an XCom: what the roles must (not) see."""
import pendulum
from airflow.sdk import dag, task


@dag(dag_id="{PROBE_DAG}", schedule=None, start_date=pendulum.datetime(2025, 1, 1), catchup=False,
     tags=["test"])
def probe():
    @task(task_id="{PROBE_TASK}")
    def count() -> int:
        print("counted 3 rows")
        return 3

    count()


probe()
'''


@dataclass
class Airflow:
    """The running API server and what the module's tests ask it."""

    url: str
    run_id: str
    tokens: dict[str, str]
    env: dict[str, str]
    database: str

    def request(self, path: str, token: str | None, method: str = "GET",
                body: dict | None = None) -> tuple[int, str]:
        """The HTTP status and body of one API call (as ``token``'s user, or anonymous)."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(f"{self.url}{path}", method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def call(self, path: str, token: str | None, method: str = "GET", body: dict | None = None) -> int:
        """The HTTP status of one API call."""
        return self.request(path, token, method, body)[0]

    def task_path(self, tail: str = "") -> str:
        run = urllib.parse.quote(self.run_id, safe="")
        return f"/api/v2/dags/{PROBE_DAG}/dagRuns/{run}/taskInstances/{PROBE_TASK}" + (f"/{tail}" if tail else "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE if stdin is not None else None,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str], stdin: str | None = None, timeout: int = 180) -> str:
    out, err = proc.communicate(stdin, timeout=timeout)
    assert proc.returncode == 0, (proc.args, out[-2000:], err[-3000:])
    return out


def _token(url: str, username: str, password: str) -> str:
    req = urllib.request.Request(f"{url}/auth/token", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"username": username, "password": password}).encode())
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.status == 201
        return json.loads(r.read())["access_token"]


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow]:
    """The compose init on a fresh PostgreSQL database, two users, a DAG run, and an API
    server on the compose's auth settings: started once, stopped and dropped after."""
    import psycopg2

    root = tmp_path_factory.mktemp("roles")
    compose = _resolved_compose(root, **STRONG)
    init, api = compose["services"]["init"], compose["services"]["api-server"]
    assert init["environment"] == api["environment"]  # one x-ksp environment: one JWT secret
    assert api["environment"]["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")

    database = f"ksp_roles_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'create database "{database}"')
    (root / "dags").mkdir()
    (root / "dags" / f"{PROBE_DAG}.py").write_text(_DAG_FILE)
    port = _free_port()
    # the service's environment with only what names the compose network's hosts or the
    # container's paths replaced; PostgreSQL here trusts local connections, so the
    # password in the URL (which check-settings requires) is carried but not needed
    env = {**{k: str(v) for k, v in api["environment"].items()},
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
               f"postgresql+psycopg2://postgres:{STRONG['POSTGRES_PASSWORD']}@127.0.0.1:5432/{database}",
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
           "AIRFLOW_HOME": str(root / "airflow"), "KSP_DATA_DIR": str(root / "data"),
           "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
           # the API server keeps a user's permissions for [fab] cache_ttl (30 s): 1 s here,
           # so the test of a grant taken back need not wait half a minute
           "AIRFLOW__FAB__CACHE_TTL": "1",
           "PATH": str(BIN) + os.pathsep + os.environ["PATH"],
           **{k: os.environ[k] for k in ("PYTHONPATH", "HOME", "LANG") if k in os.environ}}
    assert env["KSP_ENV"] == "production"
    server: subprocess.Popen[str] | None = None
    try:
        entrypoint = [part.replace("$$", "$") for part in init["entrypoint"]]
        _finish(_run([*entrypoint, *shlex.split(init["command"])], env))  # as compose splits it
        # the documented commands for the other two roles (password by environment, by stdin)
        department = _run([str(BIN / "ksp"), "users", "create", "--role", "department", "--username", "duty",
                           "--email", "duty@krakow.local", "--password-env", "KSP_NEW_PASSWORD"],
                          {**env, "KSP_NEW_PASSWORD": PASSWORDS["department"]})
        researcher = _run([str(BIN / "ksp"), "users", "create", "--role", "researcher", "--username", "agh",
                           "--email", "agh@agh.edu.pl", "--password-stdin"], env, stdin="")
        _finish(researcher, PASSWORDS["researcher"] + "\n")
        _finish(department)

        dag_test = _run([str(BIN / "airflow"), "dags", "test", PROBE_DAG], env)
        server = subprocess.Popen([str(BIN / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(port),
                                   "--workers", "1"], env=env, stdout=(root / "api.log").open("w"),
                                  stderr=subprocess.STDOUT, start_new_session=True)
        _finish(dag_test)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 150
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, (root / "api.log").read_text()[-3000:]
                assert time.monotonic() < deadline, (root / "api.log").read_text()[-3000:]
                time.sleep(1)
        with psycopg2.connect(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg2", "")) as con, \
                con.cursor() as cur:
            cur.execute("select run_id from dag_run where dag_id = %s and state = 'success'", (PROBE_DAG,))
            [(run_id,)] = cur.fetchall()
        tokens = {"engineer": _token(url, env["AIRFLOW_ADMIN_USER"], env["AIRFLOW_ADMIN_PASSWORD"]),
                  "department": _token(url, "duty", PASSWORDS["department"]),
                  "researcher": _token(url, "agh", PASSWORDS["researcher"])}
        yield Airflow(url, run_id, tokens, env, database)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
        admin.cursor().execute(f'drop database if exists "{database}" with (force)')
        admin.close()


FORBIDDEN_TO_RESEARCHERS = ["logs/1", "xcomEntries", "xcomEntries/return_value"]


def test_a_researcher_reads_runs_but_gets_403_on_logs_xcoms_connections_and_variables(airflow: Airflow) -> None:
    token = airflow.tokens["researcher"]
    # the token is good: what a researcher may read, it reads
    assert airflow.call("/api/v2/dags", token) == 200
    assert airflow.call(f"/api/v2/dags/{PROBE_DAG}/dagRuns", token) == 200
    assert airflow.call(airflow.task_path(), token) == 200  # the task's state
    for tail in FORBIDDEN_TO_RESEARCHERS:
        assert airflow.call(airflow.task_path(tail), token) == 403, tail
    for path in ("/api/v2/connections", "/api/v2/connections/smtp_default", "/api/v2/variables",
                 "/api/v2/pools", "/api/v2/config"):
        assert airflow.call(path, token) == 403, path
    # read-only: no run triggered
    assert airflow.call(f"/api/v2/dags/{PROBE_DAG}/dagRuns", token, "POST", {"logical_date": None}) == 403


def test_the_department_triggers_and_lists_runs_but_gets_403_on_connections_and_task_logs(airflow: Airflow) -> None:
    token = airflow.tokens["department"]
    assert airflow.call(f"/api/v2/dags/{PROBE_DAG}/dagRuns", token) == 200
    assert airflow.call(f"/api/v2/dags/{PROBE_DAG}/dagRuns", token, "POST", {"logical_date": None}) == 200
    for tail in ("logs/1", "xcomEntries/return_value"):
        assert airflow.call(airflow.task_path(tail), token) == 403, tail
    for path in ("/api/v2/connections", "/api/v2/variables", "/api/v2/config"):
        assert airflow.call(path, token) == 403, path


def test_the_engineer_sees_everything(airflow: Airflow) -> None:
    token = airflow.tokens["engineer"]
    for path in ("/api/v2/connections", "/api/v2/variables", "/api/v2/pools", f"/api/v2/dags/{PROBE_DAG}/dagRuns",
                 airflow.task_path("logs/1"), airflow.task_path("xcomEntries/return_value")):
        assert airflow.call(path, token) == 200, path


def test_anonymous_gets_401_a_token_of_another_secret_is_refused_and_a_wrong_password_gets_none(
        airflow: Airflow) -> None:
    import jwt

    for path in ("/api/v2/dags", "/api/v2/connections", airflow.task_path("logs/1")):
        assert airflow.call(path, None) == 401, path
    # the engineer's own claims, signed with another secret than the compose's JWT secret
    # (Airflow answers an invalid token 403, an expired one 401: core_api/security.py)
    claims = json.loads(_claims(airflow.tokens["engineer"]))
    forged = jwt.encode(claims, "f" * 64, algorithm="HS512")
    assert airflow.request("/api/v2/connections", forged) == (403, '{"detail":"Invalid JWT token"}')
    expired = jwt.encode({**claims, "exp": int(time.time()) - 60}, airflow.env["AIRFLOW__API_AUTH__JWT_SECRET"],
                         algorithm="HS512")
    assert airflow.call("/api/v2/connections", expired) == 401
    with pytest.raises(urllib.error.HTTPError) as refused:
        _token(airflow.url, "agh", "not-the-password-of-agh")
    assert refused.value.code == 401


def _claims(token: str) -> str:
    import base64

    payload = token.split(".")[1]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()


def test_roles_sync_takes_back_a_permission_granted_by_hand(airflow: Airflow) -> None:
    """"Exactly their permissions": a grant made outside ``ksp roles sync`` (the UI, the
    Airflow CLI) is removed by the next sync, and the researcher is refused again."""
    token = airflow.tokens["researcher"]
    grant = subprocess.run([str(BIN / "airflow"), "roles", "add-perms", "researcher", "-r", "Connections",
                            "-a", "can_read"], env=airflow.env, capture_output=True, text=True, check=False)
    assert grant.returncode == 0, grant.stderr[-3000:]
    assert _eventually(lambda: airflow.call("/api/v2/connections", token) == 200)  # the grant works
    synced = subprocess.run([str(BIN / "ksp"), "roles", "sync"], env=airflow.env, capture_output=True, text=True,
                            check=False)
    assert synced.returncode == 0, synced.stderr[-3000:]
    lines = {line.split()[0]: line for line in synced.stdout.splitlines() if line.split()[:1] in (
        ["engineer"], ["department"], ["researcher"])}
    assert "-can_read on Connections" in lines["researcher"], synced.stdout
    assert lines["engineer"].endswith("unchanged") and lines["department"].endswith("unchanged"), synced.stdout
    assert _eventually(lambda: airflow.call("/api/v2/connections", token) == 403)

    shown = subprocess.run([str(BIN / "ksp"), "roles", "show"], env=airflow.env, capture_output=True, text=True,
                           check=False)
    assert shown.returncode == 0, shown.stderr[-3000:]
    blocks = dict(re.findall(r"^(\w+): \d+ permissions\n((?:    .*\n?)*)", shown.stdout, re.MULTILINE))
    assert set(blocks) == {"engineer", "department", "researcher"}, shown.stdout
    for role in ("department", "researcher"):
        held = {line.split(maxsplit=1)[1] for line in blocks[role].splitlines()}
        assert "DAG Runs" in held and not held & access.ENGINEER_ONLY, (role, held)
    assert {"Connections", "Task Logs", "XComs", "Variables"} <= {
        line.split(maxsplit=1)[1] for line in blocks["engineer"].splitlines()}


def _eventually(check: Callable[[], bool], seconds: float = 10) -> bool:
    """``check`` true within ``seconds`` (the API server's permission cache expiring)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True
