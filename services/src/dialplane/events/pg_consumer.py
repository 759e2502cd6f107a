"""Consumer groups on PostgreSQL.

One batch is one transaction: take the group's advisory lock (so one instance of a group works at a time
and order is kept), read the next events below the visibility horizon, hand each to the handler in a
savepoint, and move the group's position in the same commit. If the process dies mid-batch nothing is
committed and the batch is delivered again (at least once). A handler that raises is retried with backoff;
after ``max_attempts`` the event is recorded in ``event_dead_letters`` and the group moves past it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.db import SessionFactory, transaction
from dialplane.events.interface import StartFrom
from dialplane.events.types import Event, EventHandler
from dialplane.events.wakeup import EVENTS_CHANNEL, Listener, Signal
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

EVENTS_CONSUMED = Counter(
    "event_stream_consumed_total",
    "Events handled by a consumer group.",
    ["group"],
    namespace=NAMESPACE,
)
EVENTS_FAILED = Counter(
    "event_stream_handler_failures_total",
    "Handler failures, by group and outcome (retry, dead_letter).",
    ["group", "outcome"],
    namespace=NAMESPACE,
)
CONSUMER_LAG = Gauge(
    "event_stream_lag_seconds",
    "Age of the last event a group handled when it handled it.",
    ["group"],
    namespace=NAMESPACE,
)

_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:lock_name, 0))")
_ENSURE_GROUP = text(
    """
    INSERT INTO event_consumer_groups (group_name, tx_id, event_id)
    SELECT :group,
           CASE WHEN :start_from = 'latest' THEN pg_snapshot_xmin(pg_current_snapshot())
                ELSE '0'::xid8 END,
           0
    ON CONFLICT (group_name) DO NOTHING
    """
)
_POSITION = text("SELECT tx_id, event_id FROM event_consumer_groups WHERE group_name = :group")
_NEXT_EVENTS = text(
    """
    SELECT id, tx_id, stream, key, type, data, created_at FROM events
    WHERE (tx_id, id) > (CAST(:tx_id AS xid8), :event_id)
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      AND stream = ANY(:streams)
    ORDER BY tx_id, id
    LIMIT :limit
    """
)
_MOVE = text(
    "UPDATE event_consumer_groups SET tx_id = CAST(:tx_id AS xid8), event_id = :event_id,"
    " updated_at = clock_timestamp() WHERE group_name = :group"
)
_DEAD_LETTER = text(
    "INSERT INTO event_dead_letters (group_name, event_id, error) VALUES (:group, :event_id, :error)"
)


class PostgresConsumer:
    """Delivers the events of ``streams`` to ``handler`` for one consumer group."""

    def __init__(
        self,
        sessions: SessionFactory,
        listener: Listener,
        group: str,
        streams: Sequence[str],
        handler: EventHandler,
        *,
        start_from: StartFrom,
        batch_size: int,
        poll_interval: float,
        max_attempts: int,
    ) -> None:
        self.name = f"consumer:{group}"
        self.group = group
        self._sessions = sessions
        self._listener = listener
        self._streams = list(streams)
        self._handler = handler
        self._start_from = start_from
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._failures: dict[int, int] = {}
        self._signal = Signal()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self._signal.set()

    async def run(self) -> None:
        for stream in self._streams:
            self._listener.register(EVENTS_CHANNEL, stream, self._signal)
        try:
            await self._loop()
        finally:
            for stream in self._streams:
                self._listener.unregister(EVENTS_CHANNEL, stream, self._signal)

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                outcome = await self.run_batch()
            except Exception:
                log.exception("event_consumer_batch_failed", group=self.group)
                outcome = "idle"
            if outcome == "idle":
                await self._signal.wait(self._poll_interval)
            elif outcome == "failed":
                await asyncio.sleep(self._backoff())

    async def run_batch(self) -> str:
        """Handle one batch: ``handled``, ``idle`` (nothing to do, or another instance holds the group)
        or ``failed`` (a handler raised; the events before it were committed)."""
        async with transaction(self._sessions) as session:
            if not await session.scalar(_TRY_LOCK, {"lock_name": f"group:{self.group}"}):
                return "idle"
            tx_id, event_id = await self._position(session)
            rows = (
                (
                    await session.execute(
                        _NEXT_EVENTS,
                        {
                            "tx_id": tx_id,
                            "event_id": event_id,
                            "streams": self._streams,
                            "limit": self._batch_size,
                        },
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                return "idle"
            last, failed = await self._handle_rows(session, rows)
            if last is not None:
                await session.execute(
                    _MOVE, {"tx_id": last["tx_id"], "event_id": last["id"], "group": self.group}
                )
            return "failed" if failed else "handled"

    async def _position(self, session: AsyncSession) -> tuple[int, int]:
        row = (await session.execute(_POSITION, {"group": self.group})).one_or_none()
        if row is None:
            await session.execute(_ENSURE_GROUP, {"group": self.group, "start_from": self._start_from})
            row = (await session.execute(_POSITION, {"group": self.group})).one()
        return int(row[0]), int(row[1])

    async def _handle_rows(self, session: AsyncSession, rows: Sequence[Any]) -> tuple[Any | None, bool]:
        last = None
        for row in rows:
            event = _event(row)
            try:
                async with session.begin_nested():
                    await self._handler(session, event)
            except Exception as exc:
                if not await self._give_up(session, event, exc):
                    return last, True
            self._failures.pop(event.id, None)
            EVENTS_CONSUMED.labels(self.group).inc()
            CONSUMER_LAG.labels(self.group).set(max(time.time() - event.created_at.timestamp(), 0))
            last = row
        return last, False

    async def _give_up(self, session: AsyncSession, event: Event, exc: Exception) -> bool:
        attempts = self._failures.get(event.id, 0) + 1
        self._failures[event.id] = attempts
        if attempts < self._max_attempts:
            EVENTS_FAILED.labels(self.group, "retry").inc()
            log.warning(
                "event_handler_failed",
                group=self.group,
                event_id=event.id,
                event_type=event.type,
                attempt=attempts,
                error=repr(exc),
            )
            return False
        EVENTS_FAILED.labels(self.group, "dead_letter").inc()
        log.error(
            "event_dead_lettered",
            group=self.group,
            event_id=event.id,
            event_type=event.type,
            attempts=attempts,
            error=repr(exc),
        )
        await session.execute(
            _DEAD_LETTER, {"group": self.group, "event_id": event.id, "error": repr(exc)[:2000]}
        )
        return True

    def _backoff(self) -> float:
        attempts = max(self._failures.values(), default=1)
        return float(min(0.05 * 2**attempts, 30.0))


def _event(row: Any) -> Event:
    return Event(
        id=row["id"],
        stream=row["stream"],
        key=row["key"],
        type=row["type"],
        data=row["data"],
        created_at=row["created_at"],
        position=f"{row['tx_id']}:{row['id']}",
    )
