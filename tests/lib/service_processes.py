"""The four services as real processes (``python -m gateway|dialer|ari_bridge|ai_agent``), as ``make up``
runs them, on free ports against the test database and the real Asterisk: for tests that look at them from
outside (Prometheus scraping them, the metrics they export).

    async with running_services(database_url, asterisk, tmp_path) as services:
        services["dialer"].url  # http://127.0.0.1:<port>

Every process is started at once; the block begins when each answers ``/metrics``. Their output goes to
``<log_dir>/<name>.log``, whose tail is in the error when one does not come up.

A cluster: ``service_set(..., nodes=[first, second], replicas=2)`` runs two of each service (``dialer`` and
``dialer-2``, …; gateway ``n`` forwards to dialer ``n`` and ai-agent ``n``), every bridge configured with
every node (``local``, ``local-2``, …: the bridges share them through leases).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from dialer.testing import TEST_CARRIER_EXEMPTION, TEST_WEBHOOK_SECRET
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from dialplane.testing.http import free_port
from dialplane.testing.processes import ServiceProcess, start, stop, wait_answering
from gateway.testing import TEST_JWT_SECRET


@dataclass(frozen=True)
class Service:
    name: str  # as in scripts/stack.py and the Prometheus job names
    module: str
    env_prefix: str


SERVICES = (
    Service("gateway", "gateway", "GATEWAY_"),
    Service("dialer", "dialer", "DIALER_"),
    Service("ari-bridge", "ari_bridge", "ARI_BRIDGE_"),
    Service("ai-agent", "ai_agent", "AI_AGENT_"),
)


def replica_name(service: str, replica: int) -> str:
    return service if replica == 1 else f"{service}-{replica}"


def _node(asterisk: AsteriskInfo, index: int, app: str) -> dict[str, str]:
    return {
        "name": replica_name("local", index),
        "ari_url": asterisk.ari_url,
        "username": asterisk.username,
        "password": asterisk.password,
        "app": app,
        "entity_id": asterisk.entity_id,
    }


def _specific_env(ports: dict[str, int], nodes: list[AsteriskInfo], app: str) -> dict[str, dict[str, str]]:
    """Each service's own settings (without its prefix), as the tests' in-process fixtures set them."""
    node_list = [_node(asterisk, index, app) for index, asterisk in enumerate(nodes, start=1)]
    return {
        "gateway": {
            "JWT_SECRET": TEST_JWT_SECRET,
            "DIALER_URL": f"http://127.0.0.1:{ports['dialer']}",
            "AI_AGENT_URL": f"http://127.0.0.1:{ports['ai-agent']}",
        },
        "dialer": {
            "WEBHOOK_SIGNING_SECRET": TEST_WEBHOOK_SECRET,
            "CALLING_HOURS_EXEMPT_PREFIXES": TEST_CARRIER_EXEMPTION,
        },
        # the local Asterisk uses the development credentials, which `test` would refuse as placeholders
        "ari-bridge": {"ENVIRONMENT": "development", "NODES": json.dumps(node_list)},
        "ai-agent": {},
    }


def service_env(
    service: Service, port: int, database_url: str, specific: dict[str, str], log_level: str = "WARNING"
) -> dict[str, str]:
    """The process environment: ours on top of the caller's, every name with the service's prefix (which
    wins over anything ``DIALPLANE_`` the caller may have set)."""
    values = {
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "test",
        "INTERNAL_TOKEN": TEST_INTERNAL_TOKEN,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": log_level,
        "EVENT_POLL_INTERVAL_SECONDS": "0.2",
        **specific,
    }
    return os.environ | {f"{service.env_prefix}{name}": value for name, value in values.items()}


@dataclass
class ServiceSet:
    """The four services as processes, by name, with the environment each was started with, so that a test
    can kill one (SIGKILL, as a crash would) and start it again as it was."""

    processes: dict[str, ServiceProcess]
    envs: dict[str, dict[str, str]]

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.processes[name]

    async def kill(self, *names: str) -> None:
        """SIGKILL each named service (every one if none is named) and wait until it is gone."""
        for name in names or tuple(self.processes):
            process = self.processes[name].process
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()

    async def start(self, *names: str) -> None:
        """Start each named service (every one if none is named); return once each answers ``/metrics``."""
        chosen = [self.processes[name] for name in names or tuple(self.processes)]
        for running in chosen:
            await start(running, self.envs[running.name])
        await asyncio.gather(*(wait_answering(running) for running in chosen))

    async def stop(self) -> None:
        await asyncio.gather(*(stop(running) for running in self.processes.values()))


@asynccontextmanager
async def service_set(
    database_url: str,
    asterisk: AsteriskInfo,
    log_dir: Path,
    *,
    log_level: str = "WARNING",
    overrides: dict[str, dict[str, str]] | None = None,
    nodes: list[AsteriskInfo] | None = None,
    replicas: int = 1,
) -> AsyncIterator[ServiceSet]:
    """The four services running (each answering ``/metrics``); stopped (SIGTERM) afterwards.
    ``overrides``: settings (without the prefix) by service name, on top of the tests' own; ``nodes``: the
    Asterisk nodes (default: ``asterisk`` alone); ``replicas``: processes of each service."""
    processes: dict[str, ServiceProcess] = {}
    envs: dict[str, dict[str, str]] = {}
    app = f"metrics-test-{os.getpid()}-{free_port()}"
    for replica in range(1, replicas + 1):
        ports = {service.name: free_port() for service in SERVICES}
        specific = _specific_env(ports, nodes or [asterisk], app)
        for name, values in (overrides or {}).items():
            specific[name] = specific[name] | values
        for s in SERVICES:
            name = replica_name(s.name, replica)
            processes[name] = ServiceProcess(name, s.module, ports[s.name], log_dir / f"{name}.log")
            envs[name] = service_env(s, ports[s.name], database_url, specific[s.name], log_level)
    services = ServiceSet(processes=processes, envs=envs)
    try:
        await services.start()
        yield services
    finally:
        await services.stop()


@asynccontextmanager
async def running_services(
    database_url: str,
    asterisk: AsteriskInfo,
    log_dir: Path,
    *,
    log_level: str = "WARNING",
    overrides: dict[str, dict[str, str]] | None = None,
) -> AsyncIterator[dict[str, ServiceProcess]]:
    """As :func:`service_set`, the processes by name."""
    async with service_set(
        database_url, asterisk, log_dir, log_level=log_level, overrides=overrides
    ) as services:
        yield services.processes
