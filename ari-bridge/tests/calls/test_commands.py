"""Originate commands against a database that fails at the wrong moment: whatever was not recorded gives
its trunk capacity back, so a retried command (or any other call) can still be placed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ari_bridge.calls.commands import CallCommands, OriginateRequest
from ari_bridge.calls.media import AgentMedia
from ari_bridge.calls.placing import Placing
from ari_bridge.calls.service import CallTracker
from ari_bridge.capacity import Capacity
from ari_bridge.nodes import Nodes
from ari_bridge.settings import NodeConfig, Settings, TrunkConfig
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream

NODE = NodeConfig(name="local", max_channels=10)
TRUNK = TrunkConfig(name="one", dial_string="Local/{number}@x", max_concurrent=1, max_cps=100)


class DatabaseDown(Exception):
    pass


class FailingFrom:
    """A session factory whose sessions from the ``nth`` on fail: to start, or (``at_commit``) at COMMIT,
    after their statements ran (the database went away)."""

    def __init__(self, sessions: SessionFactory, nth: int, *, at_commit: bool = False) -> None:
        self._sessions, self._left, self._at_commit = sessions, nth - 1, at_commit

    def __call__(self) -> Any:
        self._left -= 1
        if self._left >= 0:
            return self._sessions()
        return CommitFails(self._sessions()) if self._at_commit else Unreachable()


class Unreachable:
    async def __aenter__(self) -> None:
        raise DatabaseDown

    async def __aexit__(self, *_: object) -> None:
        return None


class CommitFails:
    """A session whose transaction is rolled back where it would commit."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def __aenter__(self) -> CommitFails:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._session.close()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        started = await self._session.begin()
        yield
        await started.rollback()
        raise DatabaseDown


def commands(sessions: Callable[[], Any], stream: PostgresEventStream, capacity: Capacity) -> CallCommands:
    settings = Settings(nodes=[NODE], trunks=[TRUNK], default_trunk=TRUNK.name)
    return CallCommands(
        cast(SessionFactory, sessions),
        CallTracker(stream),
        capacity,
        cast(Nodes, {}),  # never reached: nothing is dialed
        settings,
        cast(AgentMedia, None),
        Placing(),
    )


async def test_a_redelivered_originate_whose_dialing_record_fails_gives_its_capacity_back(
    sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    capacity = Capacity([NODE], [TRUNK], is_connected=lambda _: True)
    # the first transaction records the call as queued; the second, which records it as dialing, fails
    handler = commands(FailingFrom(sessions, 2), event_stream, capacity)
    request = OriginateRequest(call_id="retried-1", to="+12025550100")

    with pytest.raises(DatabaseDown):
        await handler.originate(request, attempt=2)

    assert [report.in_use for report in capacity.reports()] == [0]
    assert capacity.try_acquire(TRUNK.name, within=1.0) is not None  # its only slot is free again


async def test_a_first_originate_whose_dialing_record_fails_gives_its_capacity_back(
    sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    capacity = Capacity([NODE], [TRUNK], is_connected=lambda _: True)
    handler = commands(FailingFrom(sessions, 1), event_stream, capacity)

    with pytest.raises(DatabaseDown):
        await handler.originate(OriginateRequest(call_id="first-1", to="+12025550100"), attempt=1)

    assert [report.in_use for report in capacity.reports()] == [0]


async def test_an_originate_whose_dialing_record_is_not_committed_gives_its_capacity_back(
    sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    capacity = Capacity([NODE], [TRUNK], is_connected=lambda _: True)
    handler = commands(FailingFrom(sessions, 1, at_commit=True), event_stream, capacity)

    with pytest.raises(DatabaseDown):
        await handler.originate(OriginateRequest(call_id="uncommitted-1", to="+12025550100"), attempt=1)

    assert [report.in_use for report in capacity.reports()] == [0]
