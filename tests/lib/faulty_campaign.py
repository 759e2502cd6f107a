"""A campaign running on the whole stack as processes while a test breaks things, and the checks after.

    async with campaign_stack(database_url, asterisk, log_dir) as stack:
        campaign_id = await stack.start_campaign()
        async with stack.api_calls():          # a client placing calls with status webhooks meanwhile
            await stack.wait_for_dialing(campaign_id)
            await stack.services.kill("dialer")  # ... the fault under test
            await stack.services.start("dialer")
        await stack.assert_all_settled(campaign_id)

The leads are the test carrier's: answering numbers (the AI agent greets; the far end hangs up after 3 s),
busy, failing and unallocated ones, each retried once after a second. The client's calls go to the same
kinds of numbers with an ``Idempotency-Key``, retried on a transport error or a 5xx as a careful client
would, so that a call accepted while a service died is neither lost nor placed twice.

:meth:`CampaignStack.assert_all_settled` waits until the campaign completes, every call has ended and every
webhook is out, then runs the audit (``dialplane audit --settled``: every lead and call in a consistent final
state, no number dialed beyond its policy, every call's events complete and in order, every webhook
delivered) and checks that the receiver got each delivery at least once, signed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from service_processes import SERVICES, ServiceSet, service_set
from sqlalchemy import text

from dialer.testing import TEST_WEBHOOK_SECRET
from dialer.webhooks.testing import Receiver, serving_receiver
from dialplane import migrate
from dialplane.audit import audit_database
from dialplane.audit.report import as_text
from dialplane.db import SessionFactory, create_engine, create_session_factory, transaction
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.database import settings_for_tests
from gateway.testing import add_user

SERVICE_NAMES = [service.name for service in SERVICES]
PASSWORD = "a long test password"
SCOPES = ["calls:read", "calls:write", "leads:read", "leads:write", "campaigns:read", "campaigns:write"]
RETRY_ONCE = {
    result: {"delay_seconds": 1, "max_attempts": 2} for result in ("busy", "failed", "abandoned")
} | {
    "no_answer": {"delay_seconds": 1, "max_attempts": 2},
    "voicemail": {"delay_seconds": 1, "max_attempts": 1},
}
ANSWERING = [f"+1202555{2000 + n}" for n in range(30)]  # answer, 3 s, hang up: the agent talks
QUICK_ENDS = ["+12025550101", "+12025550103"] + [
    f"+120255501{n}" for n in range(20, 30)
]  # busy, failed, unallocated
API_NUMBERS = itertools.cycle([f"+1202555{3000 + n}" for n in range(100)] + ["+12025550101"])
SETTLE_WITHIN = 240.0  # seconds, from the last fault until everything is at rest
OVERRIDES = {
    "gateway": {"USER_RATE_LIMIT_PER_MINUTE": "100000"},
    "dialer": {
        "CAMPAIGN_ABANDON_PAUSE_RATIO": "1",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_BACKOFF_BASE_SECONDS": "0.2",
        "WEBHOOK_BACKOFF_CAP_SECONDS": "1",
        "WEBHOOK_POLL_INTERVAL_SECONDS": "0.2",
        "WEBHOOK_TIMEOUT_SECONDS": "2",
    },
}


@dataclass
class CampaignStack:
    services: ServiceSet
    sessions: SessionFactory
    receiver: Receiver
    client: httpx.AsyncClient  # base URL: the gateway
    auth: dict[str, str] = field(default_factory=dict)
    placed: dict[str, str] = field(default_factory=dict)  # idempotency key → call id, calls the API accepted

    async def login(self) -> None:
        answer = await self.request(
            "POST", "/api/v1/token", data={"username": "faults", "password": PASSWORD}
        )
        self.auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def request(self, method: str, path: str, *, within: float = 60.0, **kwargs: Any) -> httpx.Response:
        """The answer to a request sent again (same body, same headers) after a transport error or a 5xx,
        until a success or a 4xx; the 4xx is an error of the test."""
        headers = self.auth | kwargs.pop("headers", {})
        async with asyncio.timeout(within):
            while True:
                with contextlib.suppress(httpx.TransportError):
                    answer = await self.client.request(method, path, headers=headers, **kwargs)
                    if answer.status_code < 500:
                        assert answer.status_code < 400, (
                            f"{method} {path}: {answer.status_code} {answer.text}"
                        )
                        return answer
                await asyncio.sleep(0.3)

    async def start_campaign(self, answering: int = len(ANSWERING)) -> str:
        """A started campaign over ``answering`` of the answering numbers and every quick-ending one."""
        body = {
            "name": f"faults-{uuid.uuid4().hex[:8]}",
            "schedule": {"start_time": "00:00", "end_time": "23:59:59"},
            "max_concurrent_calls": 2,
            "calls_per_second": 3,
            "retry_policy": RETRY_ONCE,
            "ring_timeout_seconds": 10,
            "machine_detection": False,
            # calls answered while the ai-agent is down are abandoned (no agent within 2 s), as they should
            # be; with the limit (and the dialer's pause ratio) at 1 the campaign pauses itself only if
            # every answered call was abandoned
            "abandon_rate_limit": 1,
        }
        campaign_id: str = (await self.request("POST", "/api/v1/campaigns", json=body)).json()["id"]
        rows = ["phone,name,timezone,language,consent"] + [
            f"{number},Lead,America/New_York,en,yes" for number in ANSWERING[:answering] + QUICK_ENDS
        ]
        files = {"file": ("leads.csv", ("\n".join(rows) + "\n").encode(), "text/csv")}
        imported = await self.request(
            "POST", "/api/v1/leads/import", files=files, data={"campaign_id": campaign_id}
        )
        async with asyncio.timeout(60):
            while (job := (await self.request("GET", imported.headers["location"])).json())["status"] in (
                "queued",
                "running",
            ):
                await asyncio.sleep(0.2)
        assert job["status"] == "completed" and job["rows_created"] == len(rows) - 1, job
        await self.request("POST", f"/api/v1/campaigns/{campaign_id}/start")
        return campaign_id

    async def calls_of(self, campaign_id: str) -> dict[str, int]:
        """The campaign's calls so far, by status."""
        query = "SELECT status, count(*) FROM calls WHERE campaign_id = :c GROUP BY status"
        async with transaction(self.sessions) as session:
            rows = (await session.execute(text(query), {"c": campaign_id})).all()
        return {str(status): int(count) for status, count in rows}

    async def wait_for_dialing(self, campaign_id: str, calls: int = 1, within: float = 60.0) -> None:
        """Until the campaign has ``calls`` calls that are dialing or further and not ended."""
        live = ("dialing", "ringing", "answered")
        async with asyncio.timeout(within):
            while (
                sum(n for status, n in (await self.calls_of(campaign_id)).items() if status in live) < calls
            ):
                await asyncio.sleep(0.1)

    async def wait_ready(self, service: str, within: float = 60.0) -> None:
        """Until ``service`` answers ``/ready`` with 200 (its dependencies are back)."""
        async with asyncio.timeout(within):
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await self.client.get(f"{self.services[service].url}/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.2)

    @asynccontextmanager
    async def api_calls(self, every: float = 2.5) -> AsyncIterator[None]:
        """A client placing a call with status webhooks every ``every`` seconds for the block (agent calls,
        the default: with the campaign's, about as many as the ai-agent takes at once)."""

        async def place() -> None:
            while True:
                key = uuid.uuid4().hex
                body = {
                    "to": next(API_NUMBERS),
                    "status_callback": self.receiver.answer(f"calls/{key}"),  # every status (the default)
                }
                answer = await self.request(
                    "POST", "/api/v1/calls", json=body, headers={"Idempotency-Key": key}
                )
                self.placed[key] = answer.json()["id"]
                await asyncio.sleep(every)

        task = asyncio.create_task(place())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def assert_all_settled(self, campaign_id: str) -> None:
        deadline = asyncio.get_running_loop().time() + SETTLE_WITHIN
        while True:
            campaign = (await self.request("GET", f"/api/v1/campaigns/{campaign_id}")).json()
            report = await audit_database(self.sessions)
            if campaign["status"] == "completed" and report.clean(settled=True):
                break
            if asyncio.get_running_loop().time() > deadline:
                calls = await self.calls_of(campaign_id)
                raise AssertionError(
                    f"not settled after {SETTLE_WITHIN:g} s: campaign {campaign['status']}"
                    f" ({campaign['status_reason']}), its calls {calls}\n{as_text(report)}"
                )
            await asyncio.sleep(0.5)
        assert len(self.placed) == len(set(self.placed.values())), "one key placed two calls"
        self.assert_webhooks_received(await self.statuses_reached())

    async def statuses_reached(self) -> dict[str, set[str]]:
        query = "SELECT call_id::text, status FROM call_events WHERE call_id = ANY(CAST(:ids AS uuid[]))"
        async with transaction(self.sessions) as session:
            rows = (await session.execute(text(query), {"ids": list(self.placed.values())})).all()
        reached: dict[str, set[str]] = {}
        for call_id, status in rows:
            reached.setdefault(str(call_id), set()).add(str(status))
        return reached

    def assert_webhooks_received(self, reached: dict[str, set[str]]) -> None:
        """Each status an API call reached arrived at the receiver, signed."""
        assert self.placed, "the client placed no call"
        for key, call_id in self.placed.items():
            wanted = {f"call.{status}" for status in reached.get(call_id, set())}
            got = {r.event_type for r in self.receiver.received(f"calls/{key}") if r.signature_valid}
            assert wanted <= got, f"call {call_id}: {sorted(wanted - got)} never arrived (got {sorted(got)})"


class RoundRobin(httpx.AsyncBaseTransport):
    """API requests to each of the gateways in turn, as a load balancer in front of them would."""

    def __init__(self, gateways: list[str]) -> None:
        self._gateways = itertools.cycle(gateways)  # host:port
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/"):
            host, port = next(self._gateways).split(":")
            request.url = request.url.copy_with(host=host, port=int(port))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def campaign_stack(
    database_url: str,
    asterisk: AsteriskInfo,
    log_dir: Path,
    *,
    nodes: list[AsteriskInfo] | None = None,
    replicas: int = 1,
    overrides: dict[str, dict[str, str]] | None = None,
) -> AsyncIterator[CampaignStack]:
    """The four services as processes on ``database_url`` (migrated here), a webhook receiver, a user;
    with ``replicas``, that many of each service (API requests spread over the gateways) on ``nodes``."""
    await migrate.upgrade_async(database_url)
    async with AsyncExitStack() as stack:
        engine = create_engine(settings_for_tests(database_url), pool_size=2)
        stack.push_async_callback(engine.dispose)
        sessions = create_session_factory(engine)
        await add_user(sessions, "faults", PASSWORD, SCOPES)
        receiver = await stack.enter_async_context(serving_receiver(TEST_WEBHOOK_SECRET))
        settings = {name: OVERRIDES.get(name, {}) | (overrides or {}).get(name, {}) for name in SERVICE_NAMES}
        services = await stack.enter_async_context(
            service_set(database_url, asterisk, log_dir, overrides=settings, nodes=nodes, replicas=replicas)
        )
        gateways = [p.address for name, p in services.processes.items() if name.startswith("gateway")]
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=services["gateway"].url, timeout=30, transport=RoundRobin(gateways))
        )
        campaign = CampaignStack(services, sessions, receiver, client)
        await campaign.login()
        yield campaign
