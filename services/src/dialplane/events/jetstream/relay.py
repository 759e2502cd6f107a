"""The outbox relay: moves committed rows of the ``events`` and ``commands`` tables to JetStream.

Events go in the order the PostgreSQL consumer groups use, ``(tx_id, id)``, and only rows below the
visibility horizon (``pg_snapshot_xmin``), so a late-committing older transaction can never land behind a
row already relayed; the relay's position is a row of ``event_consumer_groups`` named
``jetstream-relay:<prefix>``. Commands go in id order (ids of one key are allocated under the key's lock,
so they follow commit order), a delayed command holding back the later commands of its key; a relayed
command row stays in the table, marked, until a worker handles it (it is the worker's idempotence record).

Ownership: each batch is one PostgreSQL transaction holding a transaction-level advisory lock of the relay;
it reads from the committed position, publishes row by row (each awaits JetStream's acknowledgement before
the next is sent, so the stream holds them in the same order) and commits the new position. Several relays
may run (one per service process); they take turns, never overlap. A relay that dies after publishing but
before committing leaves the position where it was: the next batch publishes the same rows again with the
same ``Nats-Msg-Id``, and JetStream's duplicate window drops them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from nats.js import JetStreamContext
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.db import SessionFactory, transaction
from dialplane.events.jetstream.layout import (
    Layout,
    bucket_of,
    command_message_id,
    encode_command_row,
    encode_event_row,
    event_message_id,
)
from dialplane.events.wakeup import COMMANDS_CHANNEL, EVENTS_CHANNEL, Listener, Signal
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

RELAYED = Counter(
    "event_stream_relayed_total",
    "Outbox rows published to JetStream, by kind (event, command).",
    ["kind"],
    namespace=NAMESPACE,
)

ANY_NAME = "*"
RELAYED_MARK = "jetstream"  # lease_token of a command row that is on JetStream, waiting for a worker
BLOCKED_RECHECK_SECONDS = (0.005, 0.1)

_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:lock_name, 0))")
_ENSURE_POSITION = text(
    "INSERT INTO event_consumer_groups (group_name, tx_id, event_id) VALUES (:name, '0'::xid8, 0)"
    " ON CONFLICT (group_name) DO NOTHING"
)
_POSITION = text("SELECT tx_id, event_id FROM event_consumer_groups WHERE group_name = :name")
_NEXT_EVENTS = text(
    """
    SELECT id, tx_id, stream, key, type, data, created_at,
           tx_id < pg_snapshot_xmin(pg_current_snapshot()) AS deliverable
    FROM events
    WHERE (tx_id, id) > (CAST(:tx_id AS xid8), :event_id)
    ORDER BY tx_id, id
    LIMIT :limit
    """
)
_MOVE = text(
    "UPDATE event_consumer_groups SET tx_id = CAST(:tx_id AS xid8), event_id = :event_id,"
    " updated_at = clock_timestamp() WHERE group_name = :name"
)
_READY_COMMANDS = text(
    """
    SELECT c.id, c.queue, c.key, c.type, c.data, c.created_at FROM commands c
    WHERE c.lease_token IS NULL AND c.available_at <= clock_timestamp()
      AND NOT EXISTS (
          SELECT 1 FROM commands e
          WHERE e.queue = c.queue AND e.key = c.key AND e.id < c.id
            AND e.lease_token IS NULL AND e.available_at > clock_timestamp())
    ORDER BY c.id
    LIMIT :limit
    """
)
_MARK_RELAYED = text(
    "UPDATE commands SET lease_token = :mark, lease_expires_at = 'infinity' WHERE id = ANY(:ids)"
)
_NEXT_DELAYED = text(
    "SELECT EXTRACT(EPOCH FROM min(available_at) - clock_timestamp()) FROM commands WHERE lease_token IS NULL"
)


class AnyNameListener(Listener):
    """A :class:`Listener` that also wakes signals registered under :data:`ANY_NAME` for any payload."""

    def _notified(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        super()._notified(conn, pid, channel, payload)
        if payload != ANY_NAME:
            super()._notified(conn, pid, channel, ANY_NAME)


class OutboxRelay:
    """Publishes committed outbox rows to JetStream; a :class:`~dialplane.events.Runner`."""

    def __init__(
        self,
        sessions: SessionFactory,
        js: JetStreamContext,
        layout: Layout,
        listener: Listener,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 500,
    ) -> None:
        self.name = f"jetstream-relay:{layout.prefix}"
        self._sessions = sessions
        self._js = js
        self._layout = layout
        self._listener = listener
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._signal = Signal()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self._signal.set()

    async def run(self) -> None:
        with (
            self._listener.registered(EVENTS_CHANNEL, [ANY_NAME], self._signal),
            self._listener.registered(COMMANDS_CHANNEL, [ANY_NAME], self._signal),
        ):
            blocked_wait = BLOCKED_RECHECK_SECONDS[0]
            while not self._stopping:
                try:
                    wait, blocked = await self.relay_once()
                except Exception:
                    log.exception("outbox_relay_failed", prefix=self._layout.prefix)
                    wait, blocked = self._poll_interval, False
                if blocked:
                    wait = min(wait, blocked_wait)
                    blocked_wait = min(blocked_wait * 2, BLOCKED_RECHECK_SECONDS[1])
                else:
                    blocked_wait = BLOCKED_RECHECK_SECONDS[0]
                if wait > 0:
                    await self._signal.wait(wait)

    async def relay_once(self) -> tuple[float, bool]:
        """Relay one batch of each kind; returns (seconds to wait before the next, events blocked)."""
        events_relayed, blocked = await self.relay_events()
        commands_relayed, next_delayed = await self.relay_commands()
        if events_relayed or commands_relayed:  # look again at once: more may have become deliverable
            return 0.0, blocked
        wait = self._poll_interval
        if next_delayed is not None:
            wait = max(min(wait, next_delayed), 0.0)
        return wait, blocked

    async def relay_events(self) -> tuple[int, bool]:
        """Publish the next deliverable events; returns (how many, whether committed rows wait behind
        an open transaction)."""
        async with transaction(self._sessions) as session:
            if not await session.scalar(_TRY_LOCK, {"lock_name": self.name}):
                return 0, False
            tx_id, event_id = await self._position(session)
            params = {"tx_id": tx_id, "event_id": event_id, "limit": self._batch_size}
            rows = (await session.execute(_NEXT_EVENTS, params)).mappings().all()
            deliverable = _deliverable_prefix(rows)
            published = await self._publish_events(deliverable)
            if published:
                last = published[-1]
                await session.execute(
                    _MOVE, {"tx_id": last["tx_id"], "event_id": last["id"], "name": self.name}
                )
        return len(published), bool(rows) and not deliverable

    async def _position(self, session: AsyncSession) -> tuple[int, int]:
        row = (await session.execute(_POSITION, {"name": self.name})).one_or_none()
        if row is None:
            await session.execute(_ENSURE_POSITION, {"name": self.name})
            row = (await session.execute(_POSITION, {"name": self.name})).one()
        return int(row[0]), int(row[1])

    async def _publish_events(self, rows: Sequence[Any]) -> list[Any]:
        """Publish in order, each acknowledged before the next; returns the rows published. A failure
        stops the batch, and the progress so far is committed (the failed row is retried next time)."""
        published: list[Any] = []
        try:
            for row in rows:
                subject = self._layout.event_subject(
                    row["stream"], bucket_of(row["key"], self._layout.buckets)
                )
                headers = {"Nats-Msg-Id": event_message_id(int(row["tx_id"]), row["id"])}
                await self._js.publish(subject, encode_event_row(row), headers=headers)
                RELAYED.labels("event").inc()
                published.append(row)
        except Exception:
            log.exception("outbox_relay_events_interrupted", prefix=self._layout.prefix)
        return published

    async def relay_commands(self) -> tuple[int, float | None]:
        """Publish the commands ready to go; returns (how many, seconds until a delayed one is due)."""
        async with transaction(self._sessions) as session:
            if not await session.scalar(_TRY_LOCK, {"lock_name": f"{self.name}:commands"}):
                return 0, None
            rows = (await session.execute(_READY_COMMANDS, {"limit": self._batch_size})).mappings().all()
            published = await self._publish_commands(rows)
            if published:
                await session.execute(_MARK_RELAYED, {"mark": RELAYED_MARK, "ids": published})
            next_delayed = await session.scalar(_NEXT_DELAYED)
        return len(published), None if next_delayed is None else float(next_delayed)

    async def _publish_commands(self, rows: Sequence[Any]) -> list[int]:
        published: list[int] = []
        try:
            for row in rows:
                subject = self._layout.command_subject(
                    row["queue"], bucket_of(row["key"], self._layout.buckets)
                )
                headers = {"Nats-Msg-Id": command_message_id(row["id"], row["created_at"])}
                await self._js.publish(subject, encode_command_row(row), headers=headers)
                RELAYED.labels("command").inc()
                published.append(row["id"])
        except Exception:
            log.exception("outbox_relay_commands_interrupted", prefix=self._layout.prefix)
        return published


def _deliverable_prefix(rows: Sequence[Any]) -> list[Any]:
    """The rows below the horizon; they always form a prefix of the ``(tx_id, id)`` order."""
    prefix = []
    for row in rows:
        if not row["deliverable"]:
            break
        prefix.append(row)
    return prefix
