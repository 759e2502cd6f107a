"""PostgreSQL restarted under the gateway and the dialer: while it is down every request is answered in
time with a 503, a ``Retry-After`` and a problem document (never a hang, never a 500), ``/ready`` says not
ready, nothing half-written remains; once it is back the same service processes answer again on their own.

Requests come one by one (each answer checked as it comes) and, at the same time, from a few clients that
keep going through the stop and the start (so some are in flight when the server goes away). The server is
the test's own (:mod:`private_postgres`), never the shared one.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import database_outage
import pytest
from private_postgres import StopMode, server_binaries

from dialplane.testing.logs import captured_logs

pytestmark = pytest.mark.skipif(server_binaries() is None, reason="no PostgreSQL server binaries")

ANSWER_WITHIN = 10.0  # seconds: longer is a hang
OUTAGE_SECONDS = 3.0  # how long requests are sent to the stopped database


@pytest.fixture
async def services() -> AsyncIterator[database_outage.Services]:
    async with database_outage.running_services(ANSWER_WITHIN, outage="a PostgreSQL restart") as services:
        yield services


async def assert_unavailable_while_down(services: database_outage.Services) -> None:
    """For :data:`OUTAGE_SECONDS`: every kind of request answered 503, both services not ready."""
    outage_ends = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < outage_ends:
        await database_outage.assert_all_unavailable(services)
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", ["immediate", "fast"])
async def test_requests_get_503_while_postgres_is_down_and_succeed_after_it_restarts(
    services: database_outage.Services, mode: StopMode
) -> None:
    assert await database_outage.all_succeed(services)
    with captured_logs() as logs:
        async with database_outage.background_traffic(services) as answered:
            await asyncio.sleep(0.3)
            await services.server.stop(mode)
            await assert_unavailable_while_down(services)
            await services.server.start()
            recovered_after = (await database_outage.wait_until_all_succeed(services)).last_503_after
            await asyncio.sleep(0.3)
    print(
        f"stop -m {mode}: the last 503 came {recovered_after:.2f} s after the start;",
        len(answered),
        "answers",
    )
    crashes = [line for line in logs.getvalue().splitlines() if re.search(database_outage.CRASH_LOGGED, line)]
    assert not crashes, "\n".join(crashes)
    assert len(answered) > 50, "the background clients hardly sent anything"
    assert (await services.gateway.get("/ready")).status_code == 200
    assert (await services.dialer.get("/ready")).status_code == 200
    await database_outage.assert_nothing_lost_or_half_written(services)
