"""Fixtures of the operations tests: the Prometheus tools, and the four services running as processes
(:mod:`service_processes`) with what each exports on ``/metrics``."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from service_processes import running_services
from sqlalchemy.ext.asyncio import AsyncEngine

from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.database import truncate_all
from dialplane.testing.processes import ServiceProcess


def prometheus_tool(name: str) -> str:
    """The path of ``promtool`` or ``prometheus``; fails (never skips) when Debian's package is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: it comes with Debian's `prometheus` package, which "
            "scripts/ensure-tools.sh installs (`make setup`, or `make test`)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return prometheus_tool("promtool")


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    return prometheus_tool("prometheus")


@pytest_asyncio.fixture(scope="module")
async def services(
    database_url: str,
    asterisk: AsteriskInfo,
    db_engine: AsyncEngine,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[dict[str, ServiceProcess]]:
    """The four services as processes for this module only: they consume the shared queues and event
    groups, so they must not outlive it. What they wrote (capacity reports) is removed afterwards."""
    try:
        async with running_services(database_url, asterisk, tmp_path_factory.mktemp("logs")) as running:
            yield running
    finally:
        await truncate_all(db_engine)


async def fetch_exposition(url: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(url)
    answer.raise_for_status()
    return answer.text


@pytest_asyncio.fixture(scope="module")
async def expositions(services: dict[str, ServiceProcess], asterisk: AsteriskInfo) -> dict[str, str]:
    """``/metrics`` of each service and of Asterisk (res_prometheus), by name."""
    urls = {name: f"{proc.url}/metrics" for name, proc in services.items()}
    urls["asterisk"] = f"http://127.0.0.1:{asterisk.http_port}/metrics"
    return {name: await fetch_exposition(url) for name, url in urls.items()}
