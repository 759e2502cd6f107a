"""Test support for the dialer: the service on the test database with a controlled clock, requests signed
as the gateway signs them, and a stand-in for the ARI bridge that publishes ``call.<status>`` events as the
bridge does and reads the commands the dialer sent it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, text

from dialer.calls.consumer import CONSUMER_GROUP
from dialer.calls.listeners import StatusListener
from dialer.main import create_app
from dialer.policy.clock import get_clock
from dialer.settings import Settings
from dialer.webhooks.repository import Delivery
from dialplane.calls import BRIDGE_QUEUE, CALLS_STREAM, CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import EventStream, NewEvent
from dialplane.internal_auth import Principal, sign_principal
from dialplane.testing.database import TEST_INTERNAL_TOKEN
from dialplane.testing.http import SignedPrincipal, app_client, service_settings

# the test carrier's fictional numbers, callable at any hour: +12025550100 ... +12025550199 (the scripted
# outcomes) and +12025552000 ... +12025553999 (answer, 3 s, hang up)
TEST_CARRIER_PREFIXES = ("+120255501", "+12025552", "+12025553")
TEST_CARRIER_EXEMPTION = ",".join(TEST_CARRIER_PREFIXES)  # as DIALER_CALLING_HOURS_EXEMPT_PREFIXES
NOON_IN_NEW_YORK = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
CALL_SCOPES = frozenset({"calls:read", "calls:write"})


def principal(scopes: Iterable[str] = CALL_SCOPES, principal_id: str = "api_key:test") -> Principal:
    return Principal(id=principal_id, kind="api_key", name="test key", scopes=frozenset(scopes))


def principal_token(who: Principal | None = None) -> str:
    return sign_principal(who or principal(), TEST_INTERNAL_TOKEN)


@dataclass
class FixedClock:
    """A clock that says what the test wants."""

    now: dt.datetime = NOON_IN_NEW_YORK

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class RecordingListener:
    """A :class:`~dialer.calls.listeners.StatusListener` that remembers what it was told."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (call id, type, payload)

    async def call_status_changed(self, session: Any, call: Any, event_type: str, payload: Any) -> None:
        self.calls.append((str(call.id), event_type, dict(payload)))


TEST_WEBHOOK_SECRET = "webhook-secret-for-tests-only"  # noqa: S105 (a test value, not a secret)


def dialer_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "calling_hours_exempt_prefixes": list(TEST_CARRIER_PREFIXES),
        "webhook_signing_secret": TEST_WEBHOOK_SECRET,
        **overrides,
    }
    return service_settings(Settings, database_url, **values)


@asynccontextmanager
async def dialer_client(
    settings: Settings,
    *,
    clock: FixedClock | None = None,
    who: Principal | None = None,
    status_listeners: Sequence[StatusListener] = (),
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a running dialer (lifespan, consumer) whose requests carry a signed principal."""
    clock = clock or FixedClock()
    app = create_app(settings, status_listeners=status_listeners, clock=clock)
    set_clock(app, clock)
    async with app_client(app) as client:
        client.auth = SignedPrincipal(who or principal())
        yield client


def set_clock(app: FastAPI, clock: FixedClock) -> None:
    app.dependency_overrides[get_clock] = lambda: clock


async def publish_bridge_event(
    sessions: SessionFactory,
    stream: EventStream,
    call_id: str,
    status: CallStatus,
    previous: CallStatus | None,
    *,
    at: dt.datetime | None = None,
    **fields: Any,
) -> None:
    """Publish ``call.<status>`` as the ARI bridge does (``CallTracker._event``)."""
    data: dict[str, Any] = {
        "call_id": call_id,
        "status": status.value,
        "previous_status": previous.value if previous else None,
        "at": (at or dt.datetime.now(dt.UTC)).isoformat(),
        "node": "local",
        "trunk": "test-carrier",
        "duration_seconds": None,
        **fields,
    }
    async with transaction(sessions) as session:
        await stream.publish(session, NewEvent(CALLS_STREAM, call_id, status.event_type, data))


async def bridge_commands(
    sessions: SessionFactory, call_id: str, queue: str = BRIDGE_QUEUE
) -> list[tuple[str, dict[str, Any]]]:
    """The commands sent to the bridge (or another ``queue``) for ``call_id``, oldest first: (type, data)."""
    query = text("SELECT type, data FROM commands WHERE queue = :queue AND key = :key ORDER BY id")
    async with transaction(sessions) as session:
        rows = (await session.execute(query, {"queue": queue, "key": call_id})).all()
    return [(row.type, row.data) for row in rows]


async def call_events(sessions: SessionFactory, call_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The events published on the ``calls`` stream for ``call_id``, oldest first: (type, data)."""
    query = text("SELECT type, data FROM events WHERE stream = :stream AND key = :key ORDER BY tx_id, id")
    async with transaction(sessions) as session:
        rows = (await session.execute(query, {"stream": CALLS_STREAM, "key": call_id})).all()
    return [(row.type, row.data) for row in rows]


async def consumer_caught_up(sessions: SessionFactory, within: float = 15.0) -> None:
    """Wait until the dialer's consumer group has handled every event of the ``calls`` stream."""
    query = text(
        """
        SELECT NOT EXISTS (
            SELECT 1 FROM events e JOIN event_consumer_groups g ON g.group_name = :group
            WHERE e.stream = :stream AND (e.tx_id, e.id) > (g.tx_id, g.event_id)
        ) AND EXISTS (SELECT 1 FROM event_consumer_groups WHERE group_name = :group)
        """
    )
    async with asyncio.timeout(within):
        while True:
            async with transaction(sessions) as session:
                params = {"group": CONSUMER_GROUP, "stream": CALLS_STREAM}
                if await session.scalar(query, params):
                    return
            await asyncio.sleep(0.05)


async def wait_for_call(
    client: httpx.AsyncClient, call_id: str, *statuses: str, within: float = 15.0
) -> dict[str, Any]:
    """The call once its status is one of ``statuses`` (as the consumer applies events)."""
    async with asyncio.timeout(within):
        while True:
            response = await client.get(f"/api/v1/calls/{call_id}")
            body: dict[str, Any] = response.json()
            if response.status_code == 200 and body["status"] in statuses:
                return body
            await asyncio.sleep(0.05)


async def add_campaign(sessions: SessionFactory, **values: Any) -> uuid.UUID:
    """A campaign row straight in the database (a draft with everyday limits unless ``values`` say
    otherwise), for tests that need one to refer to."""
    from dialer.tables import campaigns

    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": "test campaign",
        "schedule": {},
        "max_concurrent_calls": 2,
        "calls_per_second": 1.0,
        "retry_policy": {},
        "attempt_cap": 7,
        "attempt_window_seconds": 7 * 86_400,
        "abandon_rate_limit": 0.03,
        "created_by": "api_key:test",
    } | values
    async with transaction(sessions) as session:
        await session.execute(insert(campaigns).values(**row))
    return uuid.UUID(str(row["id"]))


def pending_delivery(url: str, event_type: str = "call.answered") -> Delivery:
    """A webhook delivery due now (first attempt) to ``url``, as the worker hands it to the sender."""
    now = dt.datetime.now(dt.UTC)
    return Delivery(
        id=1,
        call_id="c",
        url=url,
        event_type=event_type,
        payload={"type": event_type},
        status="pending",
        attempts=1,
        created_at=now,
        next_attempt_at=now,
        delivered_at=None,
        last_status_code=None,
        last_error=None,
    )
