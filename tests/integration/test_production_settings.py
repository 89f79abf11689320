"""docker-compose.yml's settings and commands, run natively against this machine's
PostgreSQL (there is no Docker engine here): the init service's command migrates a
fresh metadata database on PostgreSQL, and an ingestion DAG runs with its metadata
there. PostgreSQL is a service of this machine and of CI: unreachable, this fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.builders import police_csv, police_rows

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_compose_init_command_and_an_ingest_run_on_postgresql(tmp_path: Path, postgres_metadata_db: str) -> None:
    metadata_db = postgres_metadata_db
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    shared = compose["x-ksp"]["environment"]
    assert shared["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert shared["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD}@redis:6379")
    init_command = compose["services"]["init"]["command"]

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "PATH": str(Path(sys.executable).parent) + os.pathsep + env["PATH"],
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        "KSP_DATA_DIR": str(tmp_path / "data"),
        # the init service also syncs the roles and creates the first engineer (FAB)
        "AIRFLOW__CORE__AUTH_MANAGER": shared["AIRFLOW__CORE__AUTH_MANAGER"],
        "AIRFLOW_ADMIN_PASSWORD": STRONG["AIRFLOW_ADMIN_PASSWORD"],
        "KSP_ALERT_EMAIL": "data-engineering@krakow.local",
    })
    init = subprocess.run(["bash", "-c", init_command], env=env, capture_output=True, text=True, check=False)
    assert init.returncode == 0, init.stderr[-3000:]

    police_csv(tmp_path / "data" / "inbox" / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(5))
    run = subprocess.run(["airflow", "dags", "test", "ingest_police"], env=env, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]

    import psycopg2

    con = psycopg2.connect(metadata_db.replace("postgresql+psycopg2", "postgresql"))
    with con.cursor() as cur:
        cur.execute("select state from dag_run where dag_id = 'ingest_police'")
        assert cur.fetchall() == [("success",)]
        cur.execute("select slots from slot_pool where pool = 'duckdb_writer'")
        assert cur.fetchall() == [(1,)]
    con.close()
    ledger = duckdb.connect(str(tmp_path / "data" / "ops" / "ledger.duckdb"), read_only=True)
    assert ledger.execute("select status, rows_loaded from ops.load_ledger").fetchall() == [("loaded", 5)]
    ledger.close()


# --------------------------------------------------------------------------- secrets and network (issue 15, item 8)

ENV_EXAMPLE = REPO / ".env.example"
KSP_BIN = Path(sys.executable).parent


def _resolved_compose(tmp_path: Path, **overrides: str) -> dict:
    """docker-compose.yml as compose resolves it with .env.example (and ``overrides``)."""
    import shutil

    compose_cli = shutil.which("docker-compose")
    assert compose_cli, "the Debian docker-compose package is a test dependency (apt-get install docker-compose)"
    env_file = tmp_path / "test.env"
    lines = ENV_EXAMPLE.read_text().splitlines()
    env_file.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in overrides.items())]) + "\n")
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    checked = subprocess.run([compose_cli, "--env-file", str(env_file), "config", "-q"], cwd=REPO, env=clean,
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    out = subprocess.run([compose_cli, "--env-file", str(env_file), "config"], cwd=REPO, env=clean,
                         capture_output=True, text=True, check=True)
    return yaml.safe_load(out.stdout)


STRONG = {
    "POSTGRES_PASSWORD": "9f2c4e1a7b3d5f60a8c2e4b6",
    "REDIS_PASSWORD": "5d7e9a1c3b5f7d9e1a3c5e7f",
    "AIRFLOW_ADMIN_PASSWORD": "b1d3f5a7c9e1b3d5f7a9c1e3",
    "AIRFLOW_JWT_SECRET": "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "AIRFLOW_API_SECRET_KEY": "7c6b5a4938271605f4e3d2c1b0a99887c6b5a493827160",
    "AIRFLOW_FERNET_KEY": "6HSk3DnAQDdyTMcGHsqdqRkJqaIXYuDutcRHkMsfFwo=",
    "KSP_PSEUDONYM_KEY": "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a59687",
}


def _start(service: dict, command: list[str]) -> subprocess.CompletedProcess[str]:
    """A service's entrypoint run for real here (compose turns its ``$$`` into ``$``) with the
    service's resolved environment, and ``command`` as the service's command."""
    entrypoint = [part.replace("$$", "$") for part in service["entrypoint"]]
    env = {**{k: str(v) for k, v in service["environment"].items()},
           "PATH": str(KSP_BIN) + os.pathsep + os.environ["PATH"],
           **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}  # a worktree's checkout
    return subprocess.run([*entrypoint, *command], env=env, capture_output=True, text=True, check=False)


def test_compose_validates_and_redis_requires_the_password_the_urls_carry(tmp_path: Path) -> None:
    compose = _resolved_compose(tmp_path, REDIS_PASSWORD=STRONG["REDIS_PASSWORD"])
    redis = compose["services"]["redis"]
    pw = STRONG["REDIS_PASSWORD"]
    assert redis["command"][redis["command"].index("--requirepass") + 1] == pw
    assert redis["environment"]["REDISCLI_AUTH"] == pw  # the health check authenticates
    for name in ("api-server", "scheduler", "worker", "warehouse-worker", "triggerer", "dag-processor", "init"):
        env = compose["services"][name]["environment"]
        assert env["AIRFLOW__CELERY__BROKER_URL"] == f"redis://:{pw}@redis:6379/0", name
        assert env["AIRFLOW_CONN_KSP_REDIS"] == f"redis://:{pw}@redis:6379/1", name


def test_the_api_server_is_published_on_the_interface_it_serves_not_on_every_one(tmp_path: Path) -> None:
    [port] = _resolved_compose(tmp_path)["services"]["api-server"]["ports"]
    assert str(port).startswith("127.0.0.1:8080:8080"), port  # the default: this machine only
    [port] = _resolved_compose(tmp_path, KSP_API_HOST="10.20.30.40")["services"]["api-server"]["ports"]
    assert str(port).startswith("10.20.30.40:8080:8080"), port

    from ingestion.config import settings
    from simulator.demo import airflow_env

    assert settings().api_host == "127.0.0.1"
    assert airflow_env(settings())["AIRFLOW__API__HOST"] == "127.0.0.1"  # the demo's UI, on localhost


def test_production_refuses_to_start_on_the_placeholders_naming_each_setting(tmp_path: Path) -> None:
    service = _resolved_compose(tmp_path)["services"]["scheduler"]
    assert service["environment"]["KSP_ENV"] == "production"
    refused = _start(service, ["echo", "scheduler started"])
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "scheduler started" not in refused.stdout
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW__API_AUTH__JWT_SECRET",
                 "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY", "KSP_PSEUDONYM_KEY",
                 "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW_CONN_KSP_REDIS"):
        assert name in refused.stderr, (name, refused.stderr)
    assert "change-me" not in refused.stderr  # it names settings, never prints a secret

    started = _start(_resolved_compose(tmp_path, **STRONG)["services"]["scheduler"], ["echo", "scheduler started"])
    assert started.returncode == 0, started.stderr
    assert "scheduler started" in started.stdout


@pytest.mark.parametrize(("name", "value", "why"), [
    ("POSTGRES_PASSWORD", "", "is empty"),
    ("REDIS_PASSWORD", "change-me", "placeholder"),
    ("AIRFLOW_ADMIN_PASSWORD", "admin", "placeholder"),
    ("AIRFLOW_ADMIN_PASSWORD", "short-pass1", "shorter than 12"),
    ("AIRFLOW__API_AUTH__JWT_SECRET", "change-me-to-a-long-random-secret", "placeholder"),
    ("AIRFLOW__API__SECRET_KEY", "change-me-to-a-long-random-secret", "placeholder"),
    ("AIRFLOW__CORE__FERNET_KEY", "QUJD" * 11, "not a Fernet key"),  # 33 bytes
    ("KSP_PSEUDONYM_KEY", "change-me-to-a-long-random-secret", "placeholder"),
])
def test_each_weak_secret_is_refused_by_name_when_settings_are_read(monkeypatch: pytest.MonkeyPatch, name: str,
                                                                    value: str, why: str) -> None:
    from ingestion.config import InsecureSettings, settings

    good = {**STRONG, "AIRFLOW__API_AUTH__JWT_SECRET": STRONG["AIRFLOW_JWT_SECRET"],
            "AIRFLOW__API__SECRET_KEY": STRONG["AIRFLOW_API_SECRET_KEY"],
            "AIRFLOW__CORE__FERNET_KEY": STRONG["AIRFLOW_FERNET_KEY"], "KSP_ENV": "production"}
    for k, v in good.items():
        monkeypatch.setenv(k, v)
    assert settings().environment == "production"  # every secret strong: it starts
    monkeypatch.setenv(name, value)
    with pytest.raises(InsecureSettings, match=f"{name} .*{why}"):
        settings()
    monkeypatch.setenv("KSP_ENV", "development")  # a laptop, the demo, the tests: no such check
    assert settings().environment == "development"


def test_dag_parsing_and_tasks_read_settings_with_airflow_blocking_the_metadata_url(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow 3 replaces the metadata URL in the processes that parse DAG files and run
    tasks; production's settings must still be read there (every DAG file failed to import)."""
    from airflow.sdk.execution_time.supervisor import block_orm_access

    from ingestion.config import AIRFLOW_BLOCKED_DB, settings

    for k, v in {**STRONG, "AIRFLOW__API_AUTH__JWT_SECRET": STRONG["AIRFLOW_JWT_SECRET"],
                 "AIRFLOW__API__SECRET_KEY": STRONG["AIRFLOW_API_SECRET_KEY"],
                 "AIRFLOW__CORE__FERNET_KEY": STRONG["AIRFLOW_FERNET_KEY"], "KSP_ENV": "production"}.items():
        monkeypatch.setenv(k, v)
    assert AIRFLOW_BLOCKED_DB in block_orm_access.__code__.co_consts  # the value this Airflow uses
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", AIRFLOW_BLOCKED_DB)
    assert settings().environment == "production"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://airflow@postgres:5432/airflow")
    with pytest.raises(Exception, match="SQL_ALCHEMY_CONN carries no password"):
        settings()


def test_the_demo_password_file_is_readable_by_its_owner_only(cfg) -> None:
    import stat

    from simulator.demo import _password

    password = _password(cfg)
    path = cfg.airflow_home / "passwords.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # as an earlier demo wrote it
    assert _password(cfg) == password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ------------------------------------------------------------------- what compose names exists (issue 17, item 2)

_CHECK_AIRFLOW = r'''
import json, sys
from airflow.configuration import conf
conf.load_providers_configuration()
options = {s: set(d["options"]) for s, d in conf.configuration_description.items()}
from airflow.cli import cli_parser
parser = cli_parser.get_parser()
out = {"unknown_options": [], "bad_commands": []}
for name in json.loads(sys.argv[1]):
    section, key = name.removeprefix("AIRFLOW__").lower().split("__", 1)
    if key not in options.get(section, ()):
        out["unknown_options"].append(name)
for command in json.loads(sys.argv[2]):
    try:
        parser.parse_args(command)
    except SystemExit:
        out["bad_commands"].append(command)
print(json.dumps(out))
'''


def _commands(service: dict) -> list[list[str]]:
    """A service's command as argument lists; ``bash -c "a && b"`` gives each of a and b."""
    import shlex

    command = service.get("command")
    if command is None:
        return []
    parts = shlex.split(command) if isinstance(command, str) else list(command)
    if parts[:2] == ["bash", "-c"]:
        return [shlex.split(step) for step in parts[2].split("&&")]
    return [parts]


def test_every_image_command_setting_and_path_compose_names_exists(tmp_path: Path) -> None:
    """Every command a service runs parses with the installed Airflow (providers included:
    `airflow celery worker` exists only with the Celery provider and executor) and ``ksp``;
    every `AIRFLOW__SECTION__KEY` is an option of this Airflow; every `KSP_*` and
    credential variable is read by the platform; the image builds from what the
    repository holds; DAGs are where the image puts them."""
    import json
    import re
    import shlex

    from orchestration.cli import parser as ksp_parser

    compose = _resolved_compose(tmp_path, **STRONG)
    services = compose["services"]
    platform = {n: s for n, s in services.items() if s.get("image", "").startswith("krakow-safety-platform")}
    assert set(platform) == {"init", "api-server", "scheduler", "dag-processor", "triggerer", "worker",
                             "warehouse-worker"}

    # images: the platform's is built from this repository's Dockerfile; the others are pinned
    for name, service in services.items():
        if name in platform:
            assert Path(service["build"]["context"]).resolve() == REPO and (REPO / "Dockerfile").exists()
        else:
            assert re.fullmatch(r"[a-z0-9/-]+:\d+(\.\d+)*", service["image"]), (name, service["image"])
    dockerfile = (REPO / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (.+) \./?(\S*)$", dockerfile, flags=re.M)
    for sources, _target in copied:
        for source in sources.split():
            assert (REPO / source).exists(), f"the Dockerfile copies {source}, which the repository lacks"
    workdir = re.search(r"^WORKDIR (\S+)$", dockerfile, flags=re.M)[1]

    airflow_commands: list[list[str]] = []
    for name, service in platform.items():
        entry = [part.replace("$$", "$") for part in service["entrypoint"]]
        assert shlex.split(entry[2])[:2] == ["ksp", "check-settings"], name
        for command in [*_commands(service), ["ksp", "check-settings"]]:
            if command[0] == "ksp":
                ksp_parser().parse_args(command[1:])  # SystemExit (and a failure) on anything unknown
            else:
                assert command[0] == "airflow", (name, command)
                airflow_commands.append(command[1:])
        env = service["environment"]
        # paths: the data volume is the data root, DAGs are where the image copied them
        mounts = [v.split(":")[1] if isinstance(v, str) else v.get("target") for v in service["volumes"]]
        assert env["KSP_DATA_DIR"] in mounts, (name, mounts)
        assert env["AIRFLOW_HOME"].startswith(env["KSP_DATA_DIR"] + "/")
        dags = Path(env["AIRFLOW__CORE__DAGS_FOLDER"])
        assert dags.parent == Path(workdir) and (REPO / dags.name).is_dir() and \
            any(dags.name in sources.split() for sources, _ in copied), name
    assert ["celery", "worker", "--queues", "default", "--concurrency", "4"] in airflow_commands
    assert ["celery", "worker", "--queues", "warehouse", "--concurrency", "1"] in airflow_commands

    env = platform["scheduler"]["environment"]
    code = "\n".join(p.read_text() for folder in ("ingestion", "orchestration", "warehouse", "serving", "dags")
                     for p in (REPO / folder).rglob("*.py")) + (REPO / "dbt" / "profiles.yml").read_text()
    raw = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    raw_commands = " ".join(str(s.get("command", "")) for s in raw["services"].values())
    for name in env:
        if name.startswith("KSP_") or name in {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_ADMIN_USER",
                                               "AIRFLOW_ADMIN_PASSWORD"}:
            assert f'"{name}"' in code or f"'{name}'" in code or f"${{{name}" in raw_commands, \
                f"{name} is set in compose but neither the platform nor a service's command reads it"
    airflow_options = [n for n in env if n.startswith("AIRFLOW__")]
    checked = subprocess.run(
        [sys.executable, "-c", _CHECK_AIRFLOW, json.dumps(airflow_options), json.dumps(airflow_commands)],
        env={**{k: str(v) for k, v in env.items()}, "AIRFLOW_HOME": str(tmp_path / "airflow"),
             "PATH": os.environ["PATH"], "KSP_ENV": "development"},
        capture_output=True, text=True, check=True, timeout=300)
    found = json.loads(checked.stdout.strip().splitlines()[-1])
    assert found == {"unknown_options": [], "bad_commands": []}, found
