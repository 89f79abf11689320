"""docker-compose.yml's production topology, run as native processes on one machine.

Where no container engine runs (this project's CI, a city's VM), the same services
start here with the same settings: ``docker-compose config`` resolves the compose file
against an env file (compose's own interpolation, ``${VAR:?...}`` refusals included), and
each platform service's entrypoint and command run natively with the environment it
resolved. Only what a container network provides is translated, and nothing else:

- service host names in URLs (``postgres``, ``redis``, ``api-server``) become 127.0.0.1,
  and a published port its host port;
- the named volume's mount point (``/data``) becomes a directory here, the image's
  ``WORKDIR`` (Dockerfile) this checkout, the image's ``PATH`` this virtualenv;
- what one host cannot give two processes: each Celery worker gets its own node name and
  log-server port (in containers each has its own host name and network).

``postgres`` and ``redis`` are not started: this machine's servers stand in for them
(their health checks are run as the compose file's ``depends_on`` asks). The ``init``
service runs to completion first, as ``service_completed_successfully`` says.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
MACHINE_SERVICES = ("postgres", "redis")  # this machine's servers stand in for these images


@dataclass
class Service:
    """One compose service as a native process: its argv and its whole environment."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def resolved_config(env_file: Path, compose_file: Path = COMPOSE_FILE) -> dict:
    """The compose file as compose resolves it with ``env_file`` (``docker-compose config``)."""
    out = subprocess.run(["docker-compose", "--env-file", str(env_file), "-f", str(compose_file), "config"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"docker-compose config refused {compose_file} with {env_file}: {out.stderr.strip()}")
    return yaml.safe_load(out.stdout)


def _workdir(dockerfile: Path) -> str:
    found = re.findall(r"^WORKDIR\s+(\S+)", dockerfile.read_text(encoding="utf-8"), flags=re.MULTILINE)
    if not found:
        raise RuntimeError(f"{dockerfile}: no WORKDIR, so the image's code path is unknown")
    return found[-1]


def native_services(config: dict, *, data_dir: Path, api_port: int,
                    venv_bin: Path = Path(sys.executable).parent) -> dict[str, Service]:
    """Every platform service of ``config`` (resolved) translated to this machine, in start order.

    ``data_dir`` stands for the named volume, ``api_port`` for the api-server's published port.
    """
    workdir = _workdir(REPO_ROOT / "Dockerfile")
    services = config["services"]
    host_ports: dict[str, dict[str, str]] = {}
    interfaces: dict[str, str] = {}
    for name, svc in services.items():
        for spec in svc.get("ports", []):
            parts = str(spec).split("/")[0].split(":")  # [host ip:]host port:container port
            host_ports.setdefault(name, {})[parts[-1]] = str(api_port) if name == "api-server" else parts[-2]
            if len(parts) == 3:
                interfaces[name] = parts[0]
    hosts = "|".join(re.escape(n) for n in services)
    # a URL's host and port: after "//" or the credentials' "@", before the path (a
    # password may itself start with "postgres:" and digits)
    url_host = re.compile(rf"(?<=[@/])({hosts}):(\d+)(?=[/?]|$)")

    def native(value: str, mounts: Mapping[str, Path]) -> str:
        value = url_host.sub(lambda m: f"127.0.0.1:{host_ports.get(m.group(1), {}).get(m.group(2), m.group(2))}",
                             value)
        for inside, outside in mounts.items():
            value = re.sub(rf"(?<![\w/]){re.escape(inside)}(?=/|$|\s)", str(outside), value)
        return value

    out: dict[str, Service] = {}
    order = ["init"] + [n for n in services if n not in ("init", *MACHINE_SERVICES)]
    for name in order:
        svc = services[name]
        mounts: dict[str, Path] = {workdir: REPO_ROOT}
        for volume in svc.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            if source in (config.get("volumes") or {}):
                mounts[target] = data_dir
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KSP_"))},
               **{k: native(str(v), mounts) for k, v in (svc.get("environment") or {}).items()}}
        env["PATH"] = f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"
        entrypoint = [a.replace("$$", "$") for a in svc.get("entrypoint") or []]
        command = svc.get("command") or []
        command = shlex.split(command) if isinstance(command, str) else list(command)
        command = [native(a.replace("$$", "$"), mounts) for a in command]
        for container, host in host_ports.get(name, {}).items():
            command = [host if a == container else a for a in command]
        if name in interfaces and command[:2] == ["airflow", "api-server"] and "--host" not in command:
            command += ["--host", interfaces[name]]  # published on that interface only, as compose does
        if command[:3] == ["airflow", "celery", "worker"]:
            # one host, several workers: a node name and a log-server port each
            command += ["--celery-hostname", f"{name}@%h"]
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
        if command[:2] == ["airflow", "triggerer"]:
            env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(free_port())
        out[name] = Service(name, entrypoint + command, env)
    return out


def machine_services_ready(env: Mapping[str, str]) -> list[str]:
    """What is wrong with this machine's PostgreSQL and Redis for a service's native ``env``
    (its URLs already point here); empty: ready."""
    import psycopg2
    import redis

    problems = []
    pg = re.sub(r"^postgresql\+\w+://", "postgresql://", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    try:
        psycopg2.connect(pg, connect_timeout=5).close()
    except psycopg2.Error as e:
        problems.append(f"postgres: {pg.split('@')[-1]} unreachable ({e})")
    for key in ("AIRFLOW__CELERY__BROKER_URL", "AIRFLOW_CONN_KSP_REDIS"):
        try:
            redis.Redis.from_url(env[key], socket_connect_timeout=5).ping()
        except redis.RedisError as e:
            problems.append(f"redis: {env[key].split('@')[-1]} unreachable ({e})")
    return problems


class NativeTopology:
    """Start the services (init first, to completion), check they stay up, stop them all."""

    def __init__(self, env_file: Path, data_dir: Path, *, api_port: int | None = None,
                 compose_file: Path = COMPOSE_FILE) -> None:
        self.config = resolved_config(env_file, compose_file)
        self.data_dir = data_dir
        self.api_port = api_port or free_port()
        self.services = native_services(self.config, data_dir=data_dir, api_port=self.api_port)
        self.log_dir = data_dir / "native-logs"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self, init_timeout_s: float = 600.0) -> None:
        problems = machine_services_ready(self.services["scheduler"].env)
        if problems:
            raise RuntimeError("the machine's services the compose file depends on are not ready: "
                               + "; ".join(problems))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        init = self.services["init"]
        init.log = self.log_dir / "init.log"
        with init.log.open("wb") as log:
            done = subprocess.run(init.argv, env=init.env, stdout=log, stderr=subprocess.STDOUT,
                                  cwd=REPO_ROOT, timeout=init_timeout_s, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"init exited with {done.returncode}: {init.log.read_text(errors='replace')[-3000:]}")
        for name, svc in self.services.items():
            if name == "init":
                continue
            svc.log = self.log_dir / f"{name}.log"
            svc.proc = subprocess.Popen(svc.argv, env=svc.env, stdout=svc.log.open("wb"), stderr=subprocess.STDOUT,
                                        cwd=REPO_ROOT, start_new_session=True)

    def running(self) -> list[str]:
        """The services that exited (with the end of their log); empty while all run."""
        dead = []
        for name, svc in self.services.items():
            if svc.proc is not None and svc.proc.poll() is not None:
                tail = svc.log.read_text(errors="replace")[-2000:] if svc.log else ""
                dead.append(f"{name} exited with {svc.proc.returncode}: {tail}")
        return dead

    def wait_for_api(self, timeout_s: float = 300.0) -> float:
        import urllib.request

        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if dead := self.running():
                raise RuntimeError("; ".join(dead))
            try:
                with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=5) as r:
                    if r.status == 200:
                        return time.monotonic() - started
            except OSError:
                pass
            time.sleep(2)
        raise TimeoutError(f"the api-server did not answer on {self.api_url} in {timeout_s:.0f}s")

    def stop(self, timeout_s: float = 60.0) -> dict[str, int | None]:
        """SIGTERM to every service's process group, SIGKILL to what has not left in time."""
        for svc in self.services.values():
            if svc.proc is not None and svc.proc.poll() is None:
                os.killpg(svc.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        codes: dict[str, int | None] = {}
        for name, svc in self.services.items():
            if svc.proc is None:
                continue
            try:
                codes[name] = svc.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(svc.proc.pid, signal.SIGKILL)
                codes[name] = svc.proc.wait()
            with contextlib.suppress(ProcessLookupError):  # the group's children (Celery's pool, uvicorn's)
                os.killpg(svc.proc.pid, signal.SIGKILL)
        return codes
