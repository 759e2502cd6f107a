"""The local Dialplane stack: ``uv run python scripts/stack.py up|down|status`` (or ``make up|down|status``).

``up`` ensures PostgreSQL (scripts/ensure-postgres.sh), starts Asterisk (asterisk/local.sh), applies the
migrations, starts the four services in the background and waits until each ``/ready`` answers 200, then
Prometheus with the deployment's rules (scripts/local_prometheus.py) when it is installed.
``down`` stops what ``up`` started. ``status`` prints a table and exits 0 only when everything is ready.
State lives in ``$RUN_DIR`` (default ``<repo>/.run``): ``pids/``, ``logs/`` and markers.
"""
# ruff: noqa: S603  -- every subprocess here runs a fixed command from this repository or its venv

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:  # mypy reads scripts/ as a package; run as a script, scripts/ itself is on sys.path
    from scripts import local_prometheus
else:
    import local_prometheus

REPO = Path(__file__).resolve().parent.parent
LOCAL_SH = REPO / "asterisk" / "local.sh"
ENSURE_POSTGRES = REPO / "scripts" / "ensure-postgres.sh"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://dialplane:dialplane@127.0.0.1:5432/dialplane"
ARI_URL = "http://127.0.0.1:8088/ari"
READY_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 10.0
LOG_TAIL_LINES = 20


class StackError(Exception):
    """A step of the stack failed; the message says which and what to look at."""


@dataclass(frozen=True)
class Service:
    name: str
    module: str
    env_prefix: str
    default_port: int

    @property
    def port(self) -> int:
        """``<SERVICE>_PORT`` as the service's settings read it (0 or unset: the default port)."""
        return int(os.environ.get(f"{self.env_prefix}PORT") or 0) or self.default_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (
    Service("gateway", "gateway", "GATEWAY_", 8000),
    Service("dialer", "dialer", "DIALER_", 8001),
    Service("ari-bridge", "ari_bridge", "ARI_BRIDGE_", 8002),
    Service("ai-agent", "ai_agent", "AI_AGENT_", 8003),
)


def run_dir() -> Path:
    path = Path(os.environ.get("RUN_DIR") or ".run")
    return path if path.is_absolute() else REPO / path


def pid_file(service: Service) -> Path:
    return run_dir() / "pids" / f"{service.name}.pid"


def log_file(service: Service) -> Path:
    return run_dir() / "logs" / f"{service.name}.log"


def prometheus_pid_file() -> Path:
    return run_dir() / "pids" / "prometheus.pid"


def asterisk_marker() -> Path:
    return run_dir() / "asterisk.started-by-us"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or os.environ.get("DIALPLANE_DATABASE_URL") or DEFAULT_DATABASE_URL


LOCAL_DEFAULTS = {
    # the test carrier's fictional numbers may be called at any hour (calling hours apply to all others)
    "DIALER_CALLING_HOURS_EXEMPT_PREFIXES": "+120255501",
    "AI_AGENT_ENGINE": json.dumps({"record_calls": True}),  # GET /api/v1/calls/{id}/recording
    # the demo books a meeting whatever the day: the local calendar is open every day, New York time
    "AI_AGENT_CALENDARS": json.dumps(
        [
            {
                "name": "default",
                "time_zone": "America/New_York",
                "working_hours": {
                    day: ["08:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                },
            }
        ]
    ),
}


def service_env() -> dict[str, str]:
    """The environment of the services: DATABASE_URL (the tests' name) also configures them; the local
    defaults apply unless set."""
    return {**LOCAL_DEFAULTS, **os.environ, "DIALPLANE_DATABASE_URL": database_url()}


def read_pid(service: Service) -> int | None:
    try:
        return int(pid_file(service).read_text().strip())
    except (OSError, ValueError):
        return None


def process_alive(pid: int, module: str) -> bool:
    """The process exists, is not a zombie, and still runs ``python -m <module>`` (not a reused pid)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    name = module.encode()
    return state != "Z" and any(arg == name or arg.endswith(b"/" + name) for arg in argv)


def running_pid(service: Service) -> int | None:
    pid = read_pid(service)
    return pid if pid is not None and process_alive(pid, service.module) else None


def prometheus_pid() -> int | None:
    try:
        pid = int(prometheus_pid_file().read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if process_alive(pid, "prometheus") else None


def ensure_prometheus() -> None:
    """Prometheus on the local stack (scripts/local_prometheus.py), unless it runs, is not installed, or its
    port is taken by another one (e.g. the daemon of Debian's package): then the stack runs without it."""
    if prometheus_pid() is not None:
        return
    if port_open("127.0.0.1", local_prometheus.port()):
        print(f"port {local_prometheus.port()} is taken: no local Prometheus (set DIALPLANE_PROMETHEUS_PORT)")
        return
    targets = {s.name: f"127.0.0.1:{s.port}" for s in SERVICES} | {"asterisk": urlsplit(ARI_URL).netloc}
    log = run_dir() / "logs" / "prometheus.log"
    try:
        process = local_prometheus.start(targets, run_dir() / "prometheus", log)
    except RuntimeError as exc:
        raise StackError(str(exc)) from None
    if process is None:
        print("prometheus is not installed (make setup installs it): the stack runs without it")
        return
    prometheus_pid_file().write_text(f"{process.pid}\n")


def probe(url: str) -> tuple[int | None, str]:
    """Status code and body of ``GET url``; ``None`` and the error when nothing answers."""
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError as exc:
        return None, repr(exc)
    return response.status_code, response.text


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # each service leads its own session, so its group id is its pid


def stop_processes(pids: dict[int, str]) -> None:
    """SIGTERM each process group, wait up to STOP_TIMEOUT_SECONDS, then SIGKILL what is left."""
    for pid in pids:
        signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    left = dict(pids)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = {pid: module for pid, module in left.items() if process_alive(pid, module)}
    for pid, module in left.items():
        print(f"{module} (pid {pid}) ignored SIGTERM for {STOP_TIMEOUT_SECONDS:.0f} s: killing it")
        signal_group(pid, signal.SIGKILL)


def run_step(what: str, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
    if subprocess.run(list(argv), cwd=REPO, env=env, check=False).returncode != 0:
        raise StackError(f"{what} failed: {' '.join(argv)}")


def asterisk_running() -> bool:
    if not LOCAL_SH.is_file():
        return False
    status = subprocess.run([str(LOCAL_SH), "status"], capture_output=True, check=False)
    return status.returncode == 0


def start_asterisk() -> None:
    if not LOCAL_SH.is_file():
        raise StackError(f"{LOCAL_SH.relative_to(REPO)} is missing: cannot start Asterisk")
    if asterisk_running():
        return
    print("starting Asterisk (asterisk/local.sh start)")
    run_step("starting Asterisk", [str(LOCAL_SH), "start"])
    asterisk_marker().write_text(f"{time.time():.0f}\n")


def start_service(service: Service, env: dict[str, str]) -> None:
    with log_file(service).open("ab") as log:
        log.write(f"--- stack.py up: starting {service.name} at {time.ctime()} ---\n".encode())
        log.flush()
        process = subprocess.Popen(
            [sys.executable, "-m", service.module],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file(service).write_text(f"{process.pid}\n")


def ensure_service(service: Service, env: dict[str, str]) -> None:
    """Start the service unless it already runs and answers; restart it if it runs but does not answer."""
    pid = running_pid(service)
    if pid is not None and probe(f"{service.url}/health")[0] == 200:
        return
    if pid is not None:
        print(f"{service.name} (pid {pid}) does not answer on {service.url}: restarting it")
        stop_processes({pid: service.module})
    elif port_open("127.0.0.1", service.port):
        raise StackError(f"port {service.port} ({service.name}) is taken by a process not started here")
    start_service(service, env)


def wait_ready(services: Sequence[Service], timeout: float) -> list[Service]:
    """The services whose /ready does not answer 200 in time (stops early when one of them has exited)."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending:
        pending = [s for s in pending if probe(f"{s.url}/ready")[0] != 200]
        if not pending or time.monotonic() > deadline or any(running_pid(s) is None for s in pending):
            break
        time.sleep(0.5)
    return pending


def log_tail(service: Service) -> str:
    try:
        lines = log_file(service).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-LOG_TAIL_LINES:])


def report_not_ready(services: Sequence[Service]) -> None:
    for service in services:
        code, body = probe(f"{service.url}/ready")
        state = "running" if running_pid(service) else "exited"
        print(f"\n{service.name} is not ready (process {state}); GET {service.url}/ready -> {code}: {body}")
        print(f"last lines of {log_file(service)}:\n{log_tail(service)}")


def print_summary(seconds: float) -> None:
    print(f"\nDialplane is up ({seconds:.1f} s)")
    for service in SERVICES:
        print(f"  {service.name:<11} {service.url:<23} docs {service.url}/docs  metrics /metrics")
    print(f"  {'asterisk':<11} {ARI_URL}")
    if prometheus_pid() is not None:
        print(f"  {'prometheus':<11} {local_prometheus.url():<23} rules and alerts of deploy/prometheus")
    print(f"  logs in {run_dir() / 'logs'}; stop with: make down")


def up() -> int:
    started = time.monotonic()
    for directory in ("pids", "logs"):
        (run_dir() / directory).mkdir(parents=True, exist_ok=True)
    env = service_env()
    run_step("ensuring PostgreSQL", [str(ENSURE_POSTGRES)])
    start_asterisk()
    run_step("applying migrations", [sys.executable, "-m", "dialplane.cli", "db", "upgrade"], env)
    for service in SERVICES:
        ensure_service(service, env)
    not_ready = wait_ready(SERVICES, READY_TIMEOUT_SECONDS)
    if not_ready:
        report_not_ready(not_ready)
        names = ", ".join(s.name for s in not_ready)
        raise StackError(f"not ready: {names} (details above; stop with: make down)")
    ensure_prometheus()
    print_summary(time.monotonic() - started)
    return 0


def down() -> int:
    running = {pid: s.module for s in SERVICES if (pid := running_pid(s)) is not None}
    if (pid := prometheus_pid()) is not None:
        running[pid] = "prometheus"
    if running:
        print(f"stopping {', '.join(running.values())}")
    stop_processes(running)
    for service in SERVICES:
        pid_file(service).unlink(missing_ok=True)
    prometheus_pid_file().unlink(missing_ok=True)
    if asterisk_marker().exists():
        if LOCAL_SH.is_file():
            print("stopping Asterisk (started by stack.py up)")
            run_step("stopping Asterisk", [str(LOCAL_SH), "stop"])
        asterisk_marker().unlink()
    run_step("stopping PostgreSQL", [str(ENSURE_POSTGRES), "stop-if-started"])
    return 0


def postgres_ready() -> tuple[bool, str]:
    parts = urlsplit(database_url())
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    pg_isready = shutil.which("pg_isready")
    if pg_isready is None:
        ok = port_open(host, port)
    else:
        ok = subprocess.run([pg_isready, "-q", "-h", host, "-p", str(port)], check=False).returncode == 0
    return ok, f"{host}:{port}"


def service_row(service: Service) -> tuple[list[str], bool]:
    pid = running_pid(service)
    health, _ = probe(f"{service.url}/health")
    ready, _ = probe(f"{service.url}/ready")
    row = [service.name, str(pid or "-"), str(health or "-"), str(ready or "-"), service.url]
    return row, ready == 200


def status() -> int:
    rows = [["PART", "PID", "HEALTH", "READY", "ADDRESS"]]
    all_ready = True
    for service in SERVICES:
        row, ready = service_row(service)
        rows.append(row)
        all_ready &= ready
    asterisk = asterisk_running()
    rows.append(["asterisk", "-", "-", "running" if asterisk else "stopped", ARI_URL])
    postgres, address = postgres_ready()
    rows.append(["postgresql", "-", "-", "ready" if postgres else "down", address])
    prometheus = prometheus_pid()
    state = "-" if prometheus is None else ("ready" if local_prometheus.ready() else "starting")
    rows.append(["prometheus", str(prometheus or "-"), "-", state, local_prometheus.url()])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0 if all_ready and asterisk and postgres else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack.py", description="The local Dialplane stack.")
    parser.add_argument("command", choices=["up", "down", "status"])
    command = parser.parse_args(argv).command
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # keep our lines in order with the subprocesses' output
    try:
        return {"up": up, "down": down, "status": status}[command]()
    except StackError as exc:
        print(f"stack.py {command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
