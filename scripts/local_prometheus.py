"""Prometheus for the local stack (``make up``): deploy/prometheus/prometheus.yml with every job's target
replaced by the local address, and the same recording and alert rules — so the queries, dashboards' metrics
and alerts of a deployment can be tried on one machine without Docker.

Used by scripts/stack.py (started after the services, stopped by ``make down``; skipped with a note when
Debian's ``prometheus`` is not installed) and by tests/operations (``local_config``).
"""
# ruff: noqa: S603  -- the one subprocess is the prometheus binary found on PATH

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parent.parent
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
READY_TIMEOUT_SECONDS = 30.0


def local_config(targets: dict[str, str], interval: str = "5s") -> dict[str, Any]:
    """The deployment's configuration with ``targets`` (job name → host:port) as the only target of each job,
    scraping and evaluating every ``interval``, with the same rule files (absolute paths)."""
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    config["global"] = {
        "scrape_interval": interval,
        "scrape_timeout": interval,
        "evaluation_interval": interval,
    }
    config["rule_files"] = [str(PROMETHEUS_DIR / pattern) for pattern in config["rule_files"]]
    for job in config["scrape_configs"]:
        if job["job_name"] not in targets:
            raise KeyError(f"no local target for the Prometheus job {job['job_name']!r}")
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    return config


def port() -> int:
    return int(os.environ.get("DIALPLANE_PROMETHEUS_PORT") or 9090)


def url() -> str:
    return f"http://127.0.0.1:{port()}"


def ready() -> bool:
    try:
        return httpx.get(f"{url()}/-/ready", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start(targets: dict[str, str], workdir: Path, log: Path) -> subprocess.Popen[bytes] | None:
    """Start Prometheus on 127.0.0.1 (``DIALPLANE_PROMETHEUS_PORT``, default 9090) and wait until it is
    ready; ``None`` when the binary is not installed."""
    binary = shutil.which("prometheus")
    if binary is None:
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(local_config(targets)))
    argv = [
        binary,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port()}",
        "--log.level=warn",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"Prometheus did not become ready on {url()}; see {log}")
        time.sleep(0.3)
    return process
