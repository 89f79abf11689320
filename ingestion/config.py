"""Every setting of the platform, read from the environment in one place.

Defaults work in a fresh clone: everything lives under ``./data`` (``KSP_DATA_DIR``),
so a laptop needs no server and no configuration. Production overrides the paths
(and, later, the Airflow metadata database) through the same variables.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default.resolve()


def _paths(var: str, defaults: tuple[Path, ...]) -> tuple[Path, ...]:
    """A list of folders in one variable, separated like ``PATH`` (``:`` on POSIX)."""
    value = os.environ.get(var)
    if not value:
        return tuple(d.resolve() for d in defaults)
    return tuple(Path(v).expanduser().resolve() for v in value.split(os.pathsep) if v.strip())


def _default_memory_limit() -> str:
    """Half the machine's memory, at most 6 GB: the national build fits its 8 GB target
    with the interpreter, dbt and the relocation solver beside DuckDB (bench/marts.py)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return f"{min(6 * 2**30, total // 2) // 2**20}MB"


def _choice(var: str, default: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(var, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{var}={value!r}: expected one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Settings:
    """Where each part of the data path lives (see docs/architecture.md)."""

    data_dir: Path
    inbox_dir: Path
    received_dir: Path
    archive_dir: Path
    refused_dir: Path
    landing_dir: Path
    ledger_path: Path
    warehouse_path: Path
    published_path: Path
    airflow_home: Path
    gx_root: Path
    pseudonym_key_path: Path
    extension_dir: Path
    duckdb_memory_limit: str
    duckdb_threads: int
    duckdb_temp_dir: Path
    dbt_project_dir: Path
    expectations_dir: Path
    reference_dir: Path
    places_path: Path
    parser: str
    max_reject_share: float
    max_reject_rows: int
    period_tolerance_days: float
    writer_wait_seconds: float
    inbox_poll_seconds: float
    reports_dir: Path
    stream_dir: Path
    delivery_roots: tuple[Path, ...]
    partial_grace_seconds: float
    dbt_manifest_path: Path
    retention_days: int
    retry_delay_seconds: float
    alert_email: str
    report_email: str
    smtp_conn_id: str
    redis_events: bool
    redis_conn_id: str
    calendar_paused: bool
    environment: str
    api_host: str
    keep_versions: int
    keep_version_days: float

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of this process's environment; in production (``KSP_ENV=production``)
        it refuses to go on with a missing, default or placeholder secret
        (:func:`check_production`)."""
        check_production(os.environ)
        data = _path("KSP_DATA_DIR", REPO_ROOT / "data")
        return cls(
            data_dir=data,
            inbox_dir=_path("KSP_INBOX_DIR", data / "inbox"),
            received_dir=_path("KSP_RECEIVED_DIR", data / "received"),
            archive_dir=_path("KSP_ARCHIVE_DIR", data / "archive"),
            refused_dir=_path("KSP_REFUSED_DIR", data / "refused"),
            landing_dir=_path("KSP_LANDING_DIR", data / "landing"),
            ledger_path=_path("KSP_LEDGER_PATH", data / "ops" / "ledger.duckdb"),
            warehouse_path=_path("KSP_WAREHOUSE_PATH", data / "warehouse" / "ksp.duckdb"),
            published_path=_path("KSP_PUBLISHED_PATH", data / "published" / "ksp.duckdb"),
            airflow_home=_path("AIRFLOW_HOME", data / "airflow"),
            gx_root=_path("KSP_GX_ROOT", data / "gx"),
            pseudonym_key_path=_path("KSP_PSEUDONYM_KEY_FILE", data / "ops" / "pseudonym.key"),
            extension_dir=_path("KSP_DUCKDB_EXTENSION_DIR", data / "duckdb_extensions"),
            # DuckDB's own limits, from the machine unless set: it spills to the temporary
            # directory (on the data root, where the space is) beyond the memory limit
            duckdb_memory_limit=os.environ.get("KSP_DUCKDB_MEMORY_LIMIT") or _default_memory_limit(),
            duckdb_threads=int(os.environ.get("KSP_DUCKDB_THREADS") or os.cpu_count() or 1),
            duckdb_temp_dir=_path("KSP_DUCKDB_TEMP_DIR", data / "tmp" / "duckdb"),
            dbt_project_dir=_path("KSP_DBT_PROJECT_DIR", REPO_ROOT / "dbt"),
            expectations_dir=REPO_ROOT / "expectations",
            reference_dir=REPO_ROOT / "dbt" / "reference",
            # the city geoportal's places layer (schools, playgrounds, commercial streets, ...)
            places_path=_path("KSP_PLACES_PATH", data / "reference" / "places.csv"),
            # "columnar" parses a delivery as whole columns; "rows" lands with the row-by-row
            # reference parsers the columnar ones are tested against (a fallback, and slower)
            parser=_choice("KSP_PARSER", "columnar", ("columnar", "rows")),
            # SPEC: a file whose bad rows exceed this share is refused whole.
            max_reject_share=float(os.environ.get("KSP_MAX_REJECT_SHARE", "0.05")),
            # ... and their count exceeds this: one bad timestamp in a day's 18 rows is 5.6 %
            # but refusing the file would throw away 17 good rows
            max_reject_rows=int(os.environ.get("KSP_MAX_REJECT_ROWS", "3")),
            # SPEC: records further than this outside the period the file name states are
            # quarantined (a day: a late-evening record in the next day's or month's file)
            period_tolerance_days=float(os.environ.get("KSP_PERIOD_TOLERANCE_DAYS", "1")),
            # a second writer of the ledger waits this long (with backoff) before giving up
            writer_wait_seconds=float(os.environ.get("KSP_WRITER_WAIT_SECONDS", "60")),
            inbox_poll_seconds=float(os.environ.get("KSP_INBOX_POLL_SECONDS", "5")),
            reports_dir=_path("KSP_REPORTS_DIR", data / "reports"),
            # SOS events published one by one on the event channel gather here per hour
            stream_dir=_path("KSP_STREAM_DIR", data / "stream"),
            # an announced delivery must lie (symlinks resolved) inside one of these folders;
            # on a laptop the inbox and data/exports, never the platform's own stores (ops/...)
            delivery_roots=_paths("KSP_DELIVERY_ROOTS", (_path("KSP_INBOX_DIR", data / "inbox"),
                                                         data / "exports")),
            # a *.part/*.tmp upload untouched this long is reported by `ksp status` as abandoned
            partial_grace_seconds=float(os.environ.get("KSP_PARTIAL_GRACE_SECONDS", "3600")),
            # written by `ksp manifest` (make setup); the build plan reads the dbt graph from it
            dbt_manifest_path=_path("KSP_DBT_MANIFEST", REPO_ROOT / "dbt" / "target" / "manifest.json"),
            # raw delivered bytes (names in notes, plates in refused files) are kept this long
            retention_days=int(os.environ.get("KSP_RETENTION_DAYS", "90")),
            retry_delay_seconds=float(os.environ.get("KSP_RETRY_DELAY_SECONDS", "60")),
            alert_email=os.environ.get("KSP_ALERT_EMAIL", "data-engineering@localhost"),
            report_email=os.environ.get("KSP_REPORT_EMAIL", "bezpieczenstwo@localhost"),
            smtp_conn_id=os.environ.get("KSP_SMTP_CONN_ID", "smtp_default"),
            # production: deliveries are also announced on Redis channels ksp:deliveries:<source>
            redis_events=os.environ.get("KSP_REDIS_EVENTS", "0").lower() in {"1", "true", "yes"},
            redis_conn_id=os.environ.get("KSP_REDIS_CONN_ID", "ksp_redis"),
            # the demo and the end-to-end tests replay history: calendar DAGs start paused there
            calendar_paused=os.environ.get("KSP_CALENDAR_PAUSED", "0").lower() in {"1", "true", "yes"},
            # development | production (production refuses default secrets at start-up)
            environment=os.environ.get("KSP_ENV", "development"),
            # the interface the Airflow API server and UI listen on (the demo) or are published
            # on (docker-compose.yml): this machine only unless set to the one it serves
            api_host=os.environ.get("KSP_API_HOST", "127.0.0.1"),
            # published versions (published/versions/<id>/) kept: the newest N, and every
            # one younger than D days, so a study can come back to the version it cited
            keep_versions=int(os.environ.get("KSP_KEEP_VERSIONS", "10")),
            keep_version_days=float(os.environ.get("KSP_KEEP_VERSION_DAYS", "30")),
        )

    def as_json(self) -> str:
        return json.dumps({k: [str(p) for p in v] if isinstance(v, tuple) else str(v)
                           for k, v in asdict(self).items()}, indent=2)

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt reads through ``env_var()`` in ``dbt/profiles.yml``.

        Named apart from the settings above (``DBT_KSP_*``, not ``KSP_*``), so that a dbt
        variable copied into a task's environment can never override the next settings
        read in that process (Cosmos, used until issue 7, did exactly that).
        """
        return {
            "DBT_KSP_WAREHOUSE_PATH": str(self.warehouse_path),
            "DBT_KSP_LEDGER_PATH": str(self.ledger_path),
            "DBT_KSP_EXTENSION_DIR": str(self.extension_dir),
            "DBT_KSP_MEMORY_LIMIT": self.duckdb_memory_limit,
            "DBT_KSP_DUCKDB_THREADS": str(self.duckdb_threads),
            "DBT_KSP_TEMP_DIR": str(self.duckdb_temp_dir),
            "DBT_KSP_REFERENCE_DIR": str(self.reference_dir),
            "DBT_KSP_PLACES_PATH": str(self.places_path),
            "DBT_PROFILES_DIR": str(self.dbt_project_dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def to_stored(self, path: Path) -> str:
        """A file path as the ledger keeps it: relative to the data root when inside it,
        so that a data root moved, restored from a backup or mounted elsewhere (the
        container's /data) still finds its landed Parquet and kept deliveries."""
        try:
            return str(path.absolute().relative_to(self.data_dir.absolute()))
        except ValueError:
            return str(path.absolute())

    def from_stored(self, stored: str) -> Path:
        """The absolute path of a ledger path (relative ones are under the data root;
        ledgers written before paths were kept relative hold absolute ones)."""
        return (self.data_dir / stored).absolute()

    def ensure_dirs(self) -> None:
        for d in (
            self.inbox_dir,
            self.received_dir,
            self.archive_dir,
            self.refused_dir,
            self.landing_dir,
            self.ledger_path.parent,
            self.warehouse_path.parent,
            self.published_path.parent,
            self.extension_dir,
            self.duckdb_temp_dir,
            self.reports_dir,
            self.stream_dir,
            self.places_path.parent,
        ):
            d.mkdir(parents=True, exist_ok=True)
        if not self.places_path.exists():
            # no places layer installed yet: an empty one, so that the marts still build
            # (and say "no school within reach") rather than fail on a missing file
            self.places_path.write_text("place_id,kind,name,district_id,geometry_wkt\n", encoding="utf-8")


class InsecureSettings(ValueError):
    """Production was asked to start with a secret missing, left at a default or at a
    placeholder of ``.env.example``; the message names every such setting (never its value)."""


# The secrets production needs (docker-compose.yml passes each into every service) and
# the shortest value accepted for each; the Fernet key must be a real one (32 bytes, base64).
PRODUCTION_SECRETS: dict[str, int] = {
    "POSTGRES_PASSWORD": 12,
    "REDIS_PASSWORD": 12,
    "AIRFLOW_ADMIN_PASSWORD": 12,
    "AIRFLOW__API_AUTH__JWT_SECRET": 32,
    "AIRFLOW__API__SECRET_KEY": 32,
    "AIRFLOW__CORE__FERNET_KEY": 44,
    "KSP_PSEUDONYM_KEY": 32,
}
# connection URLs that must carry a password of their own (PostgreSQL, the Redis broker
# and the Redis event channel)
PRODUCTION_URLS = ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__BROKER_URL",
                   "AIRFLOW__CELERY__RESULT_BACKEND", "AIRFLOW_CONN_KSP_REDIS")
# What Airflow 3 puts in AIRFLOW__DATABASE__SQL_ALCHEMY_CONN of the processes that parse
# DAG files and run tasks (airflow.sdk.execution_time.supervisor.block_orm_access), so that
# DAG code cannot reach the metadata database. Reading settings there must not refuse it:
# it did, and in production every DAG file failed to import.
AIRFLOW_BLOCKED_DB = "airflow-db-not-allowed:///"
# defaults of the images and words that mark a value still to be replaced
_DEFAULTS = {"admin", "airflow", "password", "postgres", "redis", "secret", "changeit", "test"}
_PLACEHOLDER_WORDS = ("change-me", "change_me", "changeme", "replace-me", "placeholder", "example", "xxx")


def _weak(value: str, minimum: int) -> str | None:
    v = value.strip()
    if not v:
        return "is empty"
    if v.lower() in _DEFAULTS or any(w in v.lower() for w in _PLACEHOLDER_WORDS):
        return "is a default or placeholder value (.env.example's are refused)"
    if len(v) < minimum:
        return f"is shorter than {minimum} characters"
    return None


def production_problems(env: Mapping[str, str]) -> list[str]:
    """What is wrong with the secrets of ``env`` for production, one line per setting."""
    problems = []
    for name, minimum in PRODUCTION_SECRETS.items():
        if name not in env:
            problems.append(f"{name} is not set")
            continue
        why = _weak(env[name], minimum)
        if why is None and name == "AIRFLOW__CORE__FERNET_KEY":
            try:
                if len(base64.urlsafe_b64decode(env[name].strip().encode())) != 32:
                    why = "is not a Fernet key (32 url-safe base64 bytes)"
            except (binascii.Error, ValueError):
                why = "is not a Fernet key (32 url-safe base64 bytes)"
        if why:
            problems.append(f"{name} {why}")
    for name in PRODUCTION_URLS:
        url = env.get(name, "")
        if "://" not in url or url.startswith("sqlite"):  # a JSON connection, a file: no password
            continue
        if url == AIRFLOW_BLOCKED_DB:  # DAG parsing or a task: the service's own URL was checked at its start
            continue
        password = urlsplit(url).password
        if not password:
            problems.append(f"{name} carries no password")
        elif _weak(password, 12):
            problems.append(f"{name}'s password {_weak(password, 12)}")
    return problems


def check_production(env: Mapping[str, str]) -> None:
    """Refuse to start production (``KSP_ENV=production``) with a missing, default or
    placeholder secret, naming each one; elsewhere (a laptop, the demo, tests) nothing."""
    if env.get("KSP_ENV", "development") != "production":
        return
    problems = production_problems(env)
    if problems:
        raise InsecureSettings("refusing to start in production (KSP_ENV=production): "
                               + "; ".join(problems) + ". Set them in .env (see .env.example).")


def settings() -> Settings:
    """Read the settings now (not at import), so tests and DAG runs can point elsewhere."""
    return Settings.from_env()
