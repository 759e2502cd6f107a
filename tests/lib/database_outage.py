"""Helpers for the tests that take PostgreSQL away from the gateway and the dialer (a restart, dropped
packets): a private server (:mod:`private_postgres`, never the shared one) with both services in process on
it, one of each kind of request that needs the database, and the checks on their answers while the
database is gone and after it is back.

::

    @pytest.fixture
    async def services() -> AsyncIterator[Services]:
        async with running_services(answer_within=10.0, outage="a PostgreSQL restart") as services:
            yield services

Every request goes through :func:`timed`, which fails the test when an answer takes longer than the test's
own bound (``answer_within``): longer is a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import httpx
import pytest
from private_postgres import PrivatePostgres, private_postgres
from sqlalchemy import text

from dialer.main import create_app as create_dialer
from dialer.testing import dialer_settings, principal
from dialplane import migrate
from dialplane.audit import audit_database
from dialplane.audit.report import as_text
from dialplane.db import SessionFactory, create_engine, create_session_factory, transaction
from dialplane.errors import PROBLEM_JSON
from dialplane.testing.database import settings_for_tests
from dialplane.testing.http import SignedPrincipal, serving
from gateway.main import create_app as create_gateway
from gateway.testing import add_user, gateway_settings

PASSWORD = "a long test password"
CLIENT_TIMEOUT = 60.0  # seconds: longer than any test's answer bound, which :func:`timed` enforces
RECOVER_WITHIN = 15.0  # seconds after PostgreSQL is reachable again until every request succeeds again
CRASH_LOGGED = r"unhandled_error|Exception in ASGI application"  # what a request that crashed logs
BACKGROUND_CLIENTS = 3
NUMBERS = (f"+120255501{n:02d}" for n in itertools.cycle(range(100)))  # the test carrier's numbers

Request = Callable[[], Awaitable[httpx.Response]]


@dataclass
class Services:
    server: PrivatePostgres
    sessions: SessionFactory
    gateway: httpx.AsyncClient  # base URL: the gateway
    dialer: httpx.AsyncClient  # base URL: the dialer, requests signed as the gateway signs them
    auth: dict[str, str]
    answer_within: float  # seconds: an answer that takes longer fails the test (a hang)
    outage: str  # what the test does to PostgreSQL, for failure messages: "a network fault"
    placed: set[str] = field(default_factory=set)  # ids of the calls answered 201 (stored, said the service)
    slowest_answer: float = 0.0  # seconds, over every request sent through :func:`timed`

    def requests(self) -> dict[str, Request]:
        """One of each kind of request that needs the database, by name."""
        login = {"username": "alice", "password": PASSWORD}
        return {
            "gateway POST /calls": lambda: self.place_call(self.gateway, self.auth),
            "gateway GET /calls": lambda: self.gateway.get("/api/v1/calls", headers=self.auth),
            "gateway POST /token": lambda: self.gateway.post("/api/v1/token", data=login),
            "dialer POST /calls": lambda: self.place_call(self.dialer, {}),
            "dialer GET /calls": lambda: self.dialer.get("/api/v1/calls"),
        }

    async def place_call(self, client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
        answer = await client.post("/api/v1/calls", headers=headers, json={"to": next(NUMBERS)})
        if answer.status_code == 201:
            self.placed.add(answer.json()["id"])
        return answer

    async def stored_calls(self) -> set[str]:
        async with transaction(self.sessions) as session:
            return {str(call_id) for call_id in await session.scalars(text("SELECT id FROM calls"))}


@contextlib.asynccontextmanager
async def running_services(answer_within: float, outage: str) -> AsyncIterator[Services]:
    """A private PostgreSQL, migrated, with user ``alice``; the dialer and the gateway serving on it, and a
    client of each, the gateway's logged in as ``alice``."""
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(private_postgres())
        await migrate.upgrade_async(server.url)
        engine = create_engine(settings_for_tests(server.url), pool_size=2)
        stack.push_async_callback(engine.dispose)
        sessions = create_session_factory(engine)
        await add_user(sessions, "alice", PASSWORD)
        dialer_url = await stack.enter_async_context(serving(create_dialer(dialer_settings(server.url))))
        gateway_app = create_gateway(
            gateway_settings(server.url, dialer_url=dialer_url, user_rate_limit_per_minute=100_000)
        )
        gateway_url = await stack.enter_async_context(serving(gateway_app))
        gateway = await stack.enter_async_context(
            httpx.AsyncClient(base_url=gateway_url, timeout=CLIENT_TIMEOUT)
        )
        dialer = await stack.enter_async_context(
            httpx.AsyncClient(base_url=dialer_url, timeout=CLIENT_TIMEOUT, auth=SignedPrincipal(principal()))
        )
        login = await gateway.post("/api/v1/token", data={"username": "alice", "password": PASSWORD})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        yield Services(server, sessions, gateway, dialer, auth, answer_within, outage)


async def timed(services: Services, name: str, request: Request) -> httpx.Response:
    """The answer to ``request``; fails the test if it takes longer than ``services.answer_within``."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(services.answer_within):
            answer = await request()
    except TimeoutError:
        pytest.fail(f"{name}: no answer within {services.answer_within:g} s around {services.outage}")
    services.slowest_answer = max(services.slowest_answer, time.monotonic() - started)
    return answer


def assert_unavailable(name: str, answer: httpx.Response) -> None:
    """A 503 a client can act on: ``Retry-After``, a problem document, no traceback."""
    assert answer.status_code == 503, f"{name}: {answer.status_code} {answer.text}"
    assert int(answer.headers["retry-after"]) > 0, name
    assert answer.headers["content-type"].startswith(PROBLEM_JSON), name
    assert answer.json()["status"] == 503, name
    assert "Traceback" not in answer.text and "asyncpg" not in answer.text, f"{name}: {answer.text}"


def assert_success_or_unavailable(name: str, answer: httpx.Response) -> bool:
    """Whether ``answer`` succeeded; if it did not, it must be a proper 503."""
    if answer.status_code >= 500:
        assert_unavailable(name, answer)
        return False
    assert answer.status_code in (200, 201), f"{name}: {answer.status_code} {answer.text}"
    return True


async def all_succeed(services: Services) -> bool:
    answers = [(name, await timed(services, name, request)) for name, request in services.requests().items()]
    succeeded = [assert_success_or_unavailable(name, answer) for name, answer in answers]  # check each
    return all(succeeded)


@dataclass(frozen=True)
class Recovery:
    """Seconds after :func:`wait_until_all_succeed` was called."""

    last_503_after: float  # until the last 503 was answered (0 if none was)
    all_succeeded_after: float  # until every kind of request had succeeded


async def wait_until_all_succeed(services: Services) -> Recovery:
    """Every kind of request succeeds again (each failure before that a proper 503) within
    :data:`RECOVER_WITHIN`; returns how long that took and when the last 503 came."""
    started = last_failure = time.monotonic()
    try:
        async with asyncio.timeout(RECOVER_WITHIN):
            while not await all_succeed(services):
                last_failure = time.monotonic()
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"requests still fail {RECOVER_WITHIN:g} s after {services.outage}")
    return Recovery(last_failure - started, time.monotonic() - started)


async def assert_not_ready(services: Services, client: httpx.AsyncClient) -> None:
    answer = await timed(services, "/ready", lambda: client.get("/ready"))
    assert_unavailable("/ready", answer)
    assert answer.json()["checks"]["database"] != "ok"


async def assert_all_unavailable(services: Services) -> int:
    """Every kind of request answered 503 in time, both services not ready; returns how many requests
    were answered."""
    answered = 0
    for name, request in services.requests().items():
        assert_unavailable(name, await timed(services, name, request))
        answered += 1
    await assert_not_ready(services, services.gateway)
    await assert_not_ready(services, services.dialer)
    return answered


@contextlib.asynccontextmanager
async def background_traffic(services: Services) -> AsyncIterator[list[str]]:
    """A few clients sending every kind of request in a loop for the block, each answer checked as it comes;
    yields the names of the requests answered, for the count."""
    answered: list[str] = []
    stopping = asyncio.Event()

    async def client() -> None:
        while not stopping.is_set():
            for name, request in services.requests().items():
                assert_success_or_unavailable(name, await timed(services, name, request))
                answered.append(name)
            await asyncio.sleep(0.02)

    async with asyncio.TaskGroup() as clients:
        for _ in range(BACKGROUND_CLIENTS):
            clients.create_task(client())
        yield answered
        stopping.set()


async def assert_nothing_lost_or_half_written(services: Services) -> None:
    """Every call answered 201 is stored whole (its events with it); at most a request in flight per
    background client when the outage began may be stored without its 201 having arrived."""
    stored = await services.stored_calls()
    assert services.placed <= stored
    assert len(stored - services.placed) <= BACKGROUND_CLIENTS
    report = await audit_database(services.sessions)
    assert not report.violations, as_text(report)
