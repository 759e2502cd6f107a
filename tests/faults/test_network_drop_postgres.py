"""A network fault between the services and PostgreSQL: every packet to and from the server's port is
dropped for 25 s (no refusal, no reset: connections just go silent). Meanwhile every request to the gateway
and the dialer is answered in time with a 503, a ``Retry-After`` and a problem document (never a hang, never
a 500), ``/ready`` says not ready; once packets flow again every kind of request succeeds on its own within
a bound, and nothing is half-written.

Requests come one by one (each answer checked as it comes) and, at the same time, from a few clients that
keep going through the fault (so some are in flight when it starts and when it ends). The server is the
test's own (:mod:`private_postgres`): the shared one on 5432 is never touched.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import database_outage
import pytest
from packet_drop import dropping_packets, iptables_unusable
from private_postgres import server_binaries

from dialplane.testing.logs import captured_logs

IPTABLES_UNUSABLE = iptables_unusable()
pytestmark = [
    pytest.mark.skipif(server_binaries() is None, reason="no PostgreSQL server binaries"),
    pytest.mark.skipif(IPTABLES_UNUSABLE is not None, reason=IPTABLES_UNUSABLE or ""),
]

FAULT_SECONDS = 25.0  # how long packets are dropped
# Seconds: longer is a hang. A statement on a silent connection ends after the command timeout (10 s by
# default), its connection closed after 2 s more, and a new connection gives up after the connect timeout
# (5 s): 17 s and a little (a request took longer than 17 s once in CI); less than the fault, so a request
# that waits for the packets to flow again fails the test.
ANSWER_WITHIN = 19.5


@pytest.fixture
async def services() -> AsyncIterator[database_outage.Services]:
    async with database_outage.running_services(ANSWER_WITHIN, outage="a network fault") as services:
        yield services


async def assert_unavailable_during_fault(services: database_outage.Services, fault_ends: float) -> int:
    """Until ``fault_ends``: every kind of request answered 503 in time, both services not ready; returns
    how many requests were answered."""
    answered = 0
    while time.monotonic() < fault_ends:
        answered += await database_outage.assert_all_unavailable(services)
    return answered


async def test_requests_get_503_while_packets_to_postgres_are_dropped_and_succeed_after(
    services: database_outage.Services,
) -> None:
    assert await database_outage.all_succeed(services)
    with captured_logs() as logs:
        async with database_outage.background_traffic(services) as answered:
            await asyncio.sleep(0.3)
            async with dropping_packets(services.server.port):
                fault_ends = time.monotonic() + FAULT_SECONDS
                during = await assert_unavailable_during_fault(services, fault_ends)
                await asyncio.sleep(max(0.0, fault_ends - time.monotonic()))
            recovered_after = (await database_outage.wait_until_all_succeed(services)).all_succeeded_after
            await asyncio.sleep(0.3)
    print(
        f"{during} one-by-one requests answered 503 during the fault; every request succeeded again"
        f" {recovered_after:.2f} s after it; {len(answered)} background answers;"
        f" the slowest answer took {services.slowest_answer:.2f} s"
    )
    crashes = [line for line in logs.getvalue().splitlines() if re.search(database_outage.CRASH_LOGGED, line)]
    assert not crashes, "\n".join(crashes)
    assert (await services.gateway.get("/ready")).status_code == 200
    assert (await services.dialer.get("/ready")).status_code == 200
    await database_outage.assert_nothing_lost_or_half_written(services)
