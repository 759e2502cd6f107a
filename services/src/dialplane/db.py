"""Database access: async SQLAlchemy 2 on asyncpg.

Transactions are committed or rolled back at the boundary only:

* HTTP: the :func:`session_dependency` (``SessionDep``) opens a transaction around the route and commits
  it *before* the response is sent, so a 2xx always means the change is stored;
* workers and event consumers: :func:`transaction` (``async with transaction(sessions) as session``).

Services and repositories receive an :class:`AsyncSession` and never call ``commit()``. A transaction that
fails with a retryable error (:class:`RetryableTransactionError`, serialization failures, deadlocks) can be
rerun whole with :func:`run_in_transaction`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from dialplane.settings import ServiceSettings

T = TypeVar("T")
SessionFactory = async_sessionmaker[AsyncSession]

# SQLSTATEs after which rerunning the whole transaction is the right answer.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
# SQLSTATEs of a server going down or not up yet (besides class 08, connection exceptions): admin_shutdown,
# crash_shutdown, cannot_connect_now ("the database system is starting up / shutting down").
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# SQLSTATEs of text the database cannot store or compare (a NUL character, a byte sequence that is not
# UTF-8): character_not_in_repertoire, untranslatable_character. A request's fault, never the server's.
UNSTORABLE_TEXT_SQLSTATES = frozenset({"22021", "22P05"})


class RetryableTransactionError(Exception):
    """The transaction must be rolled back and run again from the start."""


def create_engine(settings: ServiceSettings, **overrides: Any) -> AsyncEngine:
    """An engine for ``settings.database_url`` with a pool sized for one service process."""
    options: dict[str, Any] = {
        "pool_size": settings.database_pool_size,
        "max_overflow": settings.database_pool_size,
        "pool_pre_ping": True,
        "pool_timeout": 10,
        "connect_args": {
            "timeout": settings.database_connect_timeout_seconds,
            # Each statement, too: a connection whose packets are lost would otherwise wait for TCP
            # to give up (many minutes), holding its request and its pool slot.
            "command_timeout": settings.database_command_timeout_seconds,
            "server_settings": {"application_name": f"dialplane-{settings.service_name}"},
        },
    }
    options.update(overrides)
    return create_async_engine(settings.database_url, **options)


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def redact_url(url: str) -> str:
    """The URL with its password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)


@asynccontextmanager
async def transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session in a transaction: committed if the block succeeds, rolled back if it raises."""
    async with sessions() as session, session.begin():
        yield session


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, RetryableTransactionError):
        return True
    if isinstance(exc, DBAPIError):
        return _sqlstate(exc) in RETRYABLE_SQLSTATES
    return False


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or is restarting (not that the query is wrong):
    a lost connection, or a server shutting down or starting up."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = _sqlstate(exc)
    return exc.connection_invalidated or sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES


def is_unstorable_text(exc: BaseException) -> bool:
    """Whether ``exc`` says a value sent to the database was text it cannot hold (such as NUL)."""
    return isinstance(exc, DBAPIError) and _sqlstate(exc) in UNSTORABLE_TEXT_SQLSTATES


async def run_in_transaction(
    sessions: SessionFactory,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = 5,
) -> T:
    """Run ``work`` in a transaction, rerunning it whole after a retryable failure."""
    for attempt in range(1, attempts + 1):
        try:
            async with transaction(sessions) as session:
                return await work(session)
        except Exception as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def get_session_factory(request: Request) -> SessionFactory:
    """The session factory made in the service's ``lifespan()`` (tests may override this)."""
    factory: SessionFactory = request.app.state.sessions
    return factory


async def session_dependency(
    sessions: Annotated[SessionFactory, Depends(get_session_factory)],
) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the route returns, before the response is sent."""
    async with transaction(sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(session_dependency, scope="function")]
