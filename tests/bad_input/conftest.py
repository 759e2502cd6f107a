"""Fixtures of the bad-input tests: the gateway in front of the dialer and the ai-agent's API, all three
served by uvicorn on the test database in a thread of their own (so synchronous clients such as
schemathesis can call them while a test blocks), and a user holding every scope.

No ARI bridge runs: calls are queued, never dialed. Every table is emptied when a module is done.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ai_agent.testing import agent_settings, api_app, seed_default_profile
from dialer.main import create_app as create_dialer
from dialer.testing import dialer_settings
from dialplane.db import create_session_factory
from dialplane.errors import PROBLEM_JSON, PROBLEM_TYPE_BASE
from dialplane.testing.database import truncate_all
from dialplane.testing.http import serving
from gateway.main import create_app as create_gateway
from gateway.testing import add_user, bearer, gateway_settings

PASSWORD = "a long bad-input password"
LIMITS = {  # the served stack's: the gateway's body and upload limits, the dialer's import line limit
    "max_body_bytes": 64 * 1024,
    "max_upload_bytes": 256 * 1024,
    "import_max_line_bytes": 4 * 1024,
}
START_TIMEOUT_SECONDS = 60.0


class ServedStack:
    """Gateway, dialer and ai-agent API served in a background thread with its own event loop."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.url = ""
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="bad-input-stack", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_SECONDS):
            raise TimeoutError("the bad-input stack did not start")
        if self._failure is not None:
            raise RuntimeError("the bad-input stack failed to start") from self._failure

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_TIMEOUT_SECONDS)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._failure = exc
        finally:
            self._started.set()

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        url = self.database_url
        agent = api_app(agent_settings(url))
        async with AsyncExitStack() as stack:
            dialer = create_dialer(
                dialer_settings(url, import_max_line_bytes=LIMITS["import_max_line_bytes"])
            )
            dialer_url = await stack.enter_async_context(serving(dialer))
            agent_url = await stack.enter_async_context(serving(agent))
            await seed_default_profile(agent.state.sessions)
            settings = gateway_settings(
                url,
                dialer_url=dialer_url,
                ai_agent_url=agent_url,
                user_rate_limit_per_minute=1_000_000,
                max_body_bytes=LIMITS["max_body_bytes"],
                max_upload_bytes=LIMITS["max_upload_bytes"],
            )
            self.url = await stack.enter_async_context(serving(create_gateway(settings)))
            self._started.set()
            await self._stop.wait()


@dataclass(frozen=True)
class Api:
    """The served gateway and the Authorization header of a user holding every scope."""

    url: str
    auth: dict[str, str]


@pytest_asyncio.fixture(scope="module")
async def api(database_url: str, db_engine: AsyncEngine) -> AsyncIterator[Api]:
    served = ServedStack(database_url)
    await asyncio.to_thread(served.start)
    try:
        await add_user(create_session_factory(db_engine), "fuzzer", PASSWORD)  # every scope
        async with httpx.AsyncClient(base_url=served.url, trust_env=False) as client:
            answer = await client.post("/api/v1/token", data={"username": "fuzzer", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield Api(served.url, bearer(answer.json()["access_token"]))
    finally:
        await asyncio.to_thread(served.stop)
        await truncate_all(db_engine)


@pytest.fixture(scope="module")
def gateway_url(api: Api) -> str:
    return api.url


@pytest.fixture(scope="module")
def auth(api: Api) -> dict[str, str]:
    """The Authorization header of a user holding every scope."""
    return api.auth


@pytest_asyncio.fixture
async def client(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway sending ``auth``."""
    async with httpx.AsyncClient(base_url=api.url, headers=api.auth, timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def limits() -> dict[str, int]:
    """The served stack's limits (see :data:`LIMITS`)."""
    return dict(LIMITS)


@pytest.fixture
def row_counts(db_engine: AsyncEngine) -> Callable[[], Awaitable[dict[str, int]]]:
    """How many rows each table has now: compared before and after a refused write, nothing may differ."""

    async def count() -> dict[str, int]:
        async with db_engine.connect() as conn:
            tables = (await conn.execute(text(TABLES))).scalars().all()
            return {
                name: (await conn.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one()
                for name in tables
            }

    return count


TABLES = "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def check_problem(response: httpx.Response, status: int, *names: str) -> dict[str, Any]:
    """``response`` is a ``status`` problem+json document (``type``, ``title``, ``status``, ``detail``,
    ``code``) that names each of ``names`` (in its detail, code or field errors, case-insensitively); returns
    the document."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    problem: dict[str, Any] = response.json()
    assert problem.keys() >= PROBLEM_KEYS, problem
    assert problem["status"] == status, problem
    assert problem["type"] == PROBLEM_TYPE_BASE + problem["code"], problem
    assert problem["title"] and problem["detail"], problem
    said = json.dumps([problem["detail"], problem["code"], problem.get("errors")]).lower()
    for name in names:
        assert name.lower() in said, (name, problem)
    return problem


@pytest.fixture(scope="session")
def expect_problem() -> Callable[..., dict[str, Any]]:
    """:func:`check_problem`, for the test modules (which cannot import this one)."""
    return check_problem
