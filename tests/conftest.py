"""Test settings: every test runs on its own data root; Airflow on a session-wide home.

The environment is set here, at import, because Airflow reads its configuration
once when it is first imported.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.config import Settings, settings
from tests.mail import Mailbox

_SESSION = Path(tempfile.mkdtemp(prefix="ksp-tests-"))
REPO = Path(__file__).resolve().parent.parent
os.environ.update({
    "AIRFLOW_HOME": str(_SESSION / "airflow"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_SESSION / 'airflow' / 'airflow.db'}",
    "KSP_DATA_DIR": str(_SESSION / "data"),
    # one copy of the spatial extension for the whole session
    "KSP_DUCKDB_EXTENSION_DIR": str(_SESSION / "duckdb_extensions"),
    "GX_ANALYTICS_ENABLED": "False",
    # retries still happen, with backoff, but in fractions of a second
    "KSP_RETRY_DELAY_SECONDS": "0.2",
})


@pytest.fixture(autouse=True)
def _restore_environment():
    """Each test starts from the session's environment, whatever a library left in os.environ."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """The manifest the build plan reads (``make test`` writes it; this keeps it current)."""
    from warehouse.dbt import write_manifest

    return write_manifest(settings())


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at a fresh data root under ``tmp_path``."""

    monkeypatch.setenv("KSP_DATA_DIR", str(tmp_path / "data"))
    c = settings()
    c.ensure_dirs()
    return c


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated demo-scale Kraków (seed 1, no faults), written once per test session
    (per xdist worker): ``inbox/``, ``reference/``, ``truth.json``. Shared: copy what you
    deliver from it, never move or change its files."""
    from simulator import simulate

    out = tmp_path_factory.mktemp("demo-city")
    simulate(settings(), out, scale="demo", seed=DEMO_SEED, faults=False, progress=False)
    return out


@pytest.fixture(scope="session")
def demo_city_with_faults(demo_city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same city with every documented fault injected (``faults.json`` says where)."""
    import shutil

    from simulator import inject_faults

    out = tmp_path_factory.mktemp("demo-city-faults")
    shutil.copytree(demo_city, out, dirs_exist_ok=True)
    inject_faults(out, DEMO_SEED)
    return out


DEMO_SEED = 1


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database with the single-writer pool (once per session)."""
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True)
    subprocess.run([airflow, "pools", "set", "duckdb_writer", "1", "single DuckDB writer"],
                   check=True, capture_output=True)
    return Path(os.environ["AIRFLOW_HOME"])


PG = os.environ.get("KSP_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432")


@pytest.fixture
def postgres_metadata_db() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for Airflow's metadata, dropped afterwards
    (PostgreSQL is a service of this machine and of CI: unreachable, the test fails)."""
    import psycopg2

    name = f"ksp_airflow_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'create database "{name}"')
    try:
        yield f"{PG}/{name}"
    finally:
        admin.cursor().execute(f'drop database if exists "{name}" with (force)')
        admin.close()


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch):
    """A real SMTP server on localhost, wired in as Airflow's ``smtp_default`` connection."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10, "retry_limit": 1}}))
    try:
        yield handler
    finally:
        controller.stop()


# The two embedded-Airflow files run one after the other on one worker (each starts a
# standalone Airflow), the city-scale validity run starts at once on the other, and
# every other file stays whole on one worker (its module and session fixtures built
# once): `pytest -n 2 --dist loadgroup --no-loadscope-reorder` (the Makefile).
LONG_GROUPS = ("embedded_airflow", "city_scale")


@pytest.hookimpl(tryfirst=True)  # before xdist turns the groups into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))

    def rank(item: pytest.Item) -> int:
        group = item.get_closest_marker("xdist_group").args[0]
        return LONG_GROUPS.index(group) if group in LONG_GROUPS else len(LONG_GROUPS)

    items.sort(key=rank)  # stable: collection order within each rank
