"""Pytest fixtures for a real PostgreSQL: a fresh database per test run, migrations applied, and every
table emptied after each test that used it.

The server comes from ``DIALPLANE_TEST_DATABASE_URL``, ``DATABASE_URL`` or ``DIALPLANE_DATABASE_URL`` (first
set wins; default: the local ``dialplane`` role). The role needs CREATEDB.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from dialplane import migrate
from dialplane.db import SessionFactory, create_engine, create_session_factory
from dialplane.events import PostgresEventStream
from dialplane.events.jetstream import JetStreamEventStream
from dialplane.events.postgres import asyncpg_dsn
from dialplane.settings import ServiceSettings

DEFAULT_SERVER_URL = "postgresql+asyncpg://dialplane:dialplane@127.0.0.1:5432/dialplane"
URL_VARIABLES = ("DIALPLANE_TEST_DATABASE_URL", "DATABASE_URL", "DIALPLANE_DATABASE_URL")


def server_url() -> str:
    """The URL of an existing database on the test server (used to create and drop test databases)."""
    for name in URL_VARIABLES:
        if os.environ.get(name):
            return ServiceSettings(database_url=os.environ[name]).database_url
    return DEFAULT_SERVER_URL


async def _admin_connection(url: str) -> Any:
    """A connection to the database of ``url``, or to ``postgres`` on that server if it does not exist."""
    try:
        return await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    except asyncpg.InvalidCatalogNameError:
        fallback = make_url(url).set(database="postgres").render_as_string(hide_password=False)
        return await asyncpg.connect(asyncpg_dsn(fallback), timeout=10)


async def create_database(name: str, on_server: str | None = None) -> str:
    """Create database ``name`` on the test server (or the server of ``on_server``); returns its URL."""
    url = ServiceSettings(database_url=on_server).database_url if on_server else server_url()
    conn = await _admin_connection(url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def drop_database(name: str, on_server: str | None = None) -> None:
    url = ServiceSettings(database_url=on_server).database_url if on_server else server_url()
    conn = await _admin_connection(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(
    on_server: str | None = None, prefix: str = "dialplane_scratch"
) -> AsyncIterator[str]:
    """A new empty database for the block (tests, benchmarks), dropped afterwards even after an error."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = await create_database(name, on_server)
    try:
        yield url
    finally:
        await drop_database(name, on_server)


TEST_INTERNAL_TOKEN = "internal-token-for-tests-only"  # noqa: S105 (a test value, not a secret)


def settings_for_tests(database_url: str, **overrides: Any) -> ServiceSettings:
    """Shared settings for tests: the test database, ``environment=test``, a non-placeholder token."""
    values: dict[str, Any] = {"internal_token": TEST_INTERNAL_TOKEN, **overrides}
    return ServiceSettings(database_url=database_url, environment="test", **values)


@pytest_asyncio.fixture(scope="session")
async def empty_database_url() -> AsyncIterator[str]:
    """A new, empty database for this test run, dropped at the end."""
    async with scratch_database(prefix="dialplane_test") as url:
        yield url


@pytest.fixture(scope="session")
def database_url(empty_database_url: str) -> Iterator[str]:
    """The test run's database with every migration applied."""
    migrate.upgrade(empty_database_url)
    yield empty_database_url


@pytest_asyncio.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings_for_tests(database_url, database_pool_size=20))
    try:
        yield engine
    finally:
        await engine.dispose()


async def truncate_all(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        tables = (
            (
                await conn.execute(
                    text(
                        "SELECT quote_ident(tablename) FROM pg_tables"
                        " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
            )
            .scalars()
            .all()
        )
        if tables:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest_asyncio.fixture
async def sessions(db_engine: AsyncEngine) -> AsyncIterator[SessionFactory]:
    """A session factory on the test database; every table is emptied after the test."""
    try:
        yield create_session_factory(db_engine)
    finally:
        await truncate_all(db_engine)


@pytest_asyncio.fixture
async def event_stream(
    sessions: SessionFactory, database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[PostgresEventStream | JetStreamEventStream]:
    """A started event stream on the test database, with fast polling. The backend is ``postgres``
    unless the fixture is parametrized (indirectly) with ``"jetstream"``; that one needs a ``nats_url``
    fixture (a private server) and gets JetStream streams of its own for the test."""
    stream: PostgresEventStream | JetStreamEventStream
    if getattr(request, "param", "postgres") == "jetstream":
        stream = JetStreamEventStream(
            sessions,
            database_url,
            nats_url=request.getfixturevalue("nats_url"),
            prefix=f"t{uuid.uuid4().hex[:12]}",
            poll_interval=0.2,
            ack_wait_seconds=3.0,
            fetch_timeout=0.5,
        )
    else:
        stream = PostgresEventStream(sessions, database_url, poll_interval=0.2)
    await stream.start()
    try:
        yield stream
    finally:
        await stream.close()
