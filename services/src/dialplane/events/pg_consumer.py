"""Consumer groups on PostgreSQL.

One batch is one transaction: take the group's advisory lock (one instance of a group works at a time, so
order is kept), read the next events, hand the deliverable ones (below the visibility horizon) to the
handler, and move the group's position in the same commit. If the process dies mid-batch nothing is
committed and the batch is delivered again (at least once); the handlers' own writes commit or roll back
with the position, so their database effects happen once.

A batch ends after ``batch_size`` events or ``max_batch_seconds``, whichever comes first, so a consumer
whose handler writes never holds a transaction id (and so every group's horizon) for long.

A handler that raises rolls back its batch. The next batch stops just before the failing event; then the
event runs alone, retried with backoff; after ``max_attempts`` it is recorded in ``event_dead_letters`` and
the group moves past it. No savepoint per event: they would double the statements of every handler.

When committed events wait behind an older transaction that is still open (the horizon), the consumer
checks again after a few milliseconds rather than waiting for a notification that may never come.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
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
# Rows come in delivery order; the deliverable ones (below the horizon) always form a prefix.
NEXT_EVENTS = text(
    """
    SELECT id, tx_id, stream, key, type, data, created_at,
           tx_id < pg_snapshot_xmin(pg_current_snapshot()) AS deliverable
    FROM events
    WHERE (tx_id, id) > (CAST(:tx_id AS xid8), :event_id) AND stream = ANY(:streams)
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

BLOCKED_RECHECK_SECONDS = (0.005, 0.1)  # first and longest wait while events sit behind the horizon


class BatchOutcome(enum.Enum):
    HANDLED = "handled"  # events were handled and committed
    IDLE = "idle"  # nothing to do, or another instance holds the group
    BLOCKED = "blocked"  # committed events wait behind an older, still open transaction
    RETRY = "retry"  # a handler failed; the next batch is already limited accordingly
    BACKOFF = "backoff"  # the event at the group's position failed on its own; wait before retrying


class _HandlerFailedError(Exception):
    def __init__(self, index: int, row: Any, error: Exception) -> None:
        super().__init__(index)
        self.index = index  # position of the failed event in its batch
        self.row = row
        self.error = error


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
        max_batch_seconds: float = 0.1,
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
        self._max_batch_seconds = max_batch_seconds
        self._next_limit: int | None = None  # set after a failure: stop before the failing event
        self._failures: dict[int, int] = {}
        self._signal = Signal()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self._signal.set()

    async def run(self) -> None:
        with self._listener.registered(EVENTS_CHANNEL, self._streams, self._signal):
            await self._loop()

    async def _loop(self) -> None:
        blocked_wait = BLOCKED_RECHECK_SECONDS[0]
        while not self._stopping:
            try:
                outcome = await self.run_batch()
            except Exception:
                log.exception("event_consumer_batch_failed", group=self.group)
                outcome = BatchOutcome.IDLE
            if outcome is BatchOutcome.BLOCKED:
                await self._signal.wait(blocked_wait)
                blocked_wait = min(blocked_wait * 2, BLOCKED_RECHECK_SECONDS[1])
                continue
            blocked_wait = BLOCKED_RECHECK_SECONDS[0]
            if outcome is BatchOutcome.IDLE:
                await self._signal.wait(self._poll_interval)
            elif outcome is BatchOutcome.BACKOFF:
                await asyncio.sleep(self._backoff())

    async def run_batch(self) -> BatchOutcome:
        """Handle one batch and say what happened."""
        try:
            return await self._handle_batch()
        except _HandlerFailedError as failure:
            return await self._after_failure(failure)

    async def _handle_batch(self) -> BatchOutcome:
        limit = self._next_limit or self._batch_size
        async with transaction(self._sessions) as session:
            if not await session.scalar(_TRY_LOCK, {"lock_name": f"group:{self.group}"}):
                return BatchOutcome.IDLE
            rows = await self._next_rows(session, limit)
            deliverable = list(itertools.takewhile(lambda row: row["deliverable"], rows))
            if not deliverable:
                return BatchOutcome.BLOCKED if rows else BatchOutcome.IDLE
            last = await self._handle_rows(session, deliverable)
            await self._move(session, last)
        self._next_limit = None
        return BatchOutcome.HANDLED

    async def _next_rows(self, session: AsyncSession, limit: int) -> Sequence[Any]:
        tx_id, event_id = await self._position(session)
        params = {"tx_id": tx_id, "event_id": event_id, "streams": self._streams, "limit": limit}
        return (await session.execute(NEXT_EVENTS, params)).mappings().all()

    async def _position(self, session: AsyncSession) -> tuple[int, int]:
        row = (await session.execute(_POSITION, {"group": self.group})).one_or_none()
        if row is None:
            await session.execute(_ENSURE_GROUP, {"group": self.group, "start_from": self._start_from})
            row = (await session.execute(_POSITION, {"group": self.group})).one()
        return int(row[0]), int(row[1])

    async def _move(self, session: AsyncSession, row: Any) -> None:
        await session.execute(_MOVE, {"tx_id": row["tx_id"], "event_id": row["id"], "group": self.group})

    async def _handle_rows(self, session: AsyncSession, rows: Sequence[Any]) -> Any:
        """Hand rows to the handler until the batch's time is up; returns the last one handled."""
        deadline = time.monotonic() + self._max_batch_seconds
        for index, row in enumerate(rows):
            event = event_from_row(row)
            try:
                await self._handler(session, event)
            except Exception as exc:
                raise _HandlerFailedError(index, row, exc) from exc
            self._failures.pop(event.id, None)
            EVENTS_CONSUMED.labels(self.group).inc()
            CONSUMER_LAG.labels(self.group).set(max(time.time() - event.created_at.timestamp(), 0))
            if time.monotonic() > deadline:
                return row
        return rows[-1]

    async def _after_failure(self, failure: _HandlerFailedError) -> BatchOutcome:
        """The batch was rolled back. Redo the events before the failed one; then retry it alone."""
        event_id = failure.row["id"]
        attempts = self._failures[event_id] = self._failures.get(event_id, 0) + 1
        if failure.index > 0:
            self._next_limit = failure.index
            return BatchOutcome.RETRY
        log_fields = {
            "group": self.group,
            "event_id": event_id,
            "event_type": failure.row["type"],
            "attempt": attempts,
            "error": repr(failure.error),
        }
        if attempts < self._max_attempts:
            EVENTS_FAILED.labels(self.group, "retry").inc()
            log.warning("event_handler_failed", **log_fields)
            self._next_limit = 1
            return BatchOutcome.BACKOFF
        EVENTS_FAILED.labels(self.group, "dead_letter").inc()
        log.error("event_dead_lettered", **log_fields)
        await self._dead_letter(failure.row, failure.error)
        self._failures.pop(event_id, None)
        self._next_limit = None
        return BatchOutcome.HANDLED

    async def _dead_letter(self, row: Any, error: Exception) -> None:
        async with transaction(self._sessions) as session:
            if not await session.scalar(_TRY_LOCK, {"lock_name": f"group:{self.group}"}):
                return
            if await self._position(session) >= (row["tx_id"], row["id"]):
                return  # another instance of the group got past it meanwhile
            params = {"group": self.group, "event_id": row["id"], "error": repr(error)[:2000]}
            await session.execute(_DEAD_LETTER, params)
            await self._move(session, row)

    def _backoff(self) -> float:
        attempts = max(self._failures.values(), default=1)
        return float(min(0.05 * 2**attempts, 30.0))


def event_from_row(row: Any) -> Event:
    return Event(
        id=row["id"],
        stream=row["stream"],
        key=row["key"],
        type=row["type"],
        data=row["data"],
        created_at=row["created_at"],
        position=f"{row['tx_id']}:{row['id']}",
    )
