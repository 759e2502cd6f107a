"""The PostgreSQL backend of the event stream.

Ordering without skipped ids
    Every event row stores the id of the transaction that wrote it (``tx_id xid8``). Readers deliver in
    ``(tx_id, id)`` order and only rows with ``tx_id`` below the oldest transaction still running
    (``pg_snapshot_xmin(pg_current_snapshot())``). Every transaction that could still add a row before a
    reader's position has therefore finished: a row can never appear behind a position already read,
    however commits interleave. The price: a transaction that writes and stays open holds delivery back
    for everyone, so writing transactions must stay short (the ``dialplane_event_stream_lag_seconds``
    metric shows it).

Order per key
    ``(tx_id, id)`` order can differ from commit order. ``publish`` takes a per-key advisory lock (held to
    commit) and refuses with :class:`~dialplane.db.RetryableTransactionError` if a committed event of the
    same key already has a later ``tx_id``; the boundary reruns the transaction. So events of one key are
    delivered in the order their transactions committed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Float, bindparam, func, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.db import RetryableTransactionError, SessionFactory
from dialplane.events.interface import Runner, StartFrom
from dialplane.events.live import LiveEvents
from dialplane.events.pg_consumer import PostgresConsumer
from dialplane.events.pg_worker import PostgresWorker
from dialplane.events.tables import commands, events
from dialplane.events.types import CommandHandler, EventHandler, NewCommand, NewEvent
from dialplane.events.wakeup import COMMANDS_CHANNEL, EVENTS_CHANNEL, Listener

# Locks in the given (sorted) order, so two publishers never wait for each other crosswise.
_LOCK_KEYS = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(name, 0)))"
    " FROM unnest(CAST(:names AS text[])) AS name"
)
# A statement of its own, after the locks: its snapshot sees what earlier lock holders committed.
# The NOTIFY is delivered only if the transaction commits.
_CHECK_ORDER_AND_NOTIFY = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM unnest(CAST(:streams AS text[]), CAST(:keys AS text[])) AS k(stream, key)
        JOIN events e ON e.stream = k.stream AND e.key = k.key
        WHERE e.tx_id > pg_current_xact_id()
    ) AS later_exists,
    (SELECT count(pg_notify(:channel, s)) FROM unnest(CAST(:notify AS text[])) AS s) AS notified
    """
)
# make_interval(years, months, weeks, days, hours, mins, secs): a command's delay from the insert's own clock
_AVAILABLE_AFTER_DELAY = func.clock_timestamp() + func.make_interval(
    0, 0, 0, 0, 0, 0, bindparam("delay", type_=Float)
)
_NOTIFY = text("SELECT count(pg_notify(:channel, s)) FROM unnest(CAST(:notify AS text[])) AS s")


def asyncpg_dsn(database_url: str) -> str:
    """A plain ``postgresql://`` DSN for asyncpg from a SQLAlchemy URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresEventStream:
    """Event stream on the service's own PostgreSQL database."""

    def __init__(self, sessions: SessionFactory, database_url: str, *, poll_interval: float = 1.0):
        self.sessions = sessions
        self.poll_interval = poll_interval
        self.listener = Listener(asyncpg_dsn(database_url))

    async def start(self) -> None:
        self.listener.start()

    async def close(self) -> None:
        await self.listener.close()

    async def publish(self, session: AsyncSession, *new_events: NewEvent) -> None:
        if not new_events:
            return
        keys = sorted({(e.stream, e.key) for e in new_events})
        await session.execute(_LOCK_KEYS, {"names": [f"event:{stream}:{key}" for stream, key in keys]})
        check = await session.execute(
            _CHECK_ORDER_AND_NOTIFY,
            {
                "streams": [stream for stream, _ in keys],
                "keys": [key for _, key in keys],
                "channel": EVENTS_CHANNEL,
                "notify": sorted({e.stream for e in new_events}),
            },
        )
        if check.scalar_one():
            raise RetryableTransactionError(
                "a later transaction already published for one of these keys; rerun"
            )
        await session.execute(
            insert(events),
            [{"stream": e.stream, "key": e.key, "type": e.type, "data": dict(e.data)} for e in new_events],
        )

    async def send(self, session: AsyncSession, *new_commands: NewCommand) -> None:
        if not new_commands:
            return
        # Ids are allocated under the per-key lock, so per key they follow commit order.
        keys = sorted({(c.queue, c.key) for c in new_commands})
        await session.execute(_LOCK_KEYS, {"names": [f"command:{queue}:{key}" for queue, key in keys]})
        await session.execute(
            insert(commands).values(available_at=_AVAILABLE_AFTER_DELAY),
            [
                {
                    "queue": c.queue,
                    "key": c.key,
                    "type": c.type,
                    "data": dict(c.data),
                    "delay": c.delay_seconds,
                }
                for c in new_commands
            ],
        )
        await session.execute(
            _NOTIFY, {"channel": COMMANDS_CHANNEL, "notify": sorted({c.queue for c in new_commands})}
        )

    def consumer(
        self,
        group: str,
        streams: Sequence[str],
        handler: EventHandler,
        *,
        start_from: StartFrom = "earliest",
        batch_size: int = 100,
        max_attempts: int = 10,
    ) -> Runner:
        return PostgresConsumer(
            self.sessions,
            self.listener,
            group,
            list(streams),
            handler,
            start_from=start_from,
            batch_size=batch_size,
            poll_interval=self.poll_interval,
            max_attempts=max_attempts,
        )

    def live(self, streams: Sequence[str]) -> LiveEvents:
        """A runner giving in-process subscribers the events of ``streams`` committed from now on."""
        return LiveEvents(self.sessions, self.listener, streams, poll_interval=self.poll_interval)

    def worker(
        self,
        queue: str,
        handler: CommandHandler,
        *,
        concurrency: int = 1,
        lease_seconds: float = 30.0,
        max_attempts: int = 10,
    ) -> Runner:
        return PostgresWorker(
            self.sessions,
            self.listener,
            queue,
            handler,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            max_attempts=max_attempts,
            poll_interval=self.poll_interval,
        )
