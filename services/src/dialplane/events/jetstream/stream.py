"""The JetStream backend of the event stream, with the PostgreSQL tables as its transactional outbox.

``publish`` and ``send`` are the PostgreSQL backend's own (same rows, same per-key locks and order check,
in the caller's transaction); the :class:`~dialplane.events.jetstream.relay.OutboxRelay` moves committed
rows to JetStream, where consumer groups, workers and live views read them. ``start`` connects, creates
the streams if needed and, unless ``relay=False``, runs a relay in this process (relays of several
processes take turns; see the relay module).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.db import SessionFactory
from dialplane.events.interface import Runner, StartFrom
from dialplane.events.jetstream.connection import NatsConnection
from dialplane.events.jetstream.consumer import JetStreamConsumer
from dialplane.events.jetstream.layout import DEFAULT_BUCKETS, Layout
from dialplane.events.jetstream.live import JetStreamLiveEvents
from dialplane.events.jetstream.relay import AnyNameListener, OutboxRelay
from dialplane.events.jetstream.worker import JetStreamWorker
from dialplane.events.postgres import PostgresEventStream, asyncpg_dsn
from dialplane.events.types import CommandHandler, EventHandler, NewCommand, NewEvent


class JetStreamEventStream:
    """Event stream on NATS JetStream; writes go through the service's PostgreSQL outbox."""

    def __init__(
        self,
        sessions: SessionFactory,
        database_url: str,
        *,
        nats_url: str,
        prefix: str = "dialplane",
        buckets: int = DEFAULT_BUCKETS,
        poll_interval: float = 1.0,
        ack_wait_seconds: float = 5.0,
        fetch_timeout: float = 2.0,
        relay: bool = True,
    ) -> None:
        self.sessions = sessions
        self.poll_interval = poll_interval
        self.outbox = PostgresEventStream(sessions, database_url, poll_interval=poll_interval)
        self.listener = self.outbox.listener = AnyNameListener(asyncpg_dsn(database_url))
        self.connection = NatsConnection(nats_url, Layout(prefix, buckets))
        self._ack_wait = ack_wait_seconds
        self._fetch_timeout = fetch_timeout
        self._run_relay = relay
        self._relay_task: asyncio.Task[None] | None = None
        self.relay: OutboxRelay | None = None

    @property
    def layout(self) -> Layout:
        return self.connection.layout

    async def start(self) -> None:
        self.listener.start()
        await self.connection.connect()
        if self._run_relay:
            self.relay = self.new_relay()
            self._relay_task = asyncio.create_task(self.relay.run(), name="jetstream-outbox-relay")

    def new_relay(self) -> OutboxRelay:
        """A relay runner for this stream's outbox (``start`` runs one unless ``relay=False``)."""
        return OutboxRelay(
            self.sessions,
            self.connection.js,
            self.layout,
            self.listener,
            poll_interval=self.poll_interval,
        )

    async def close(self) -> None:
        if self.relay is not None and self._relay_task is not None:
            self.relay.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._relay_task, 10)
            self.relay = self._relay_task = None
        await self.connection.close()
        await self.listener.close()

    async def publish(self, session: AsyncSession, *new_events: NewEvent) -> None:
        await self.outbox.publish(session, *new_events)

    async def send(self, session: AsyncSession, *new_commands: NewCommand) -> None:
        await self.outbox.send(session, *new_commands)

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
        """``batch_size`` is accepted for the interface; JetStream hands a bucket one event at a time."""
        return JetStreamConsumer(
            self.sessions,
            self.connection,
            group,
            streams,
            handler,
            start_from=start_from,
            max_attempts=max_attempts,
            ack_wait=self._ack_wait,
            fetch_timeout=self._fetch_timeout,
        )

    def live(self, streams: Sequence[str]) -> JetStreamLiveEvents:
        return JetStreamLiveEvents(self.sessions, self.listener, self.connection, streams)

    def worker(
        self,
        queue: str,
        handler: CommandHandler,
        *,
        concurrency: int = 1,
        lease_seconds: float = 30.0,
        max_attempts: int = 10,
    ) -> Runner:
        return JetStreamWorker(
            self.sessions,
            self.connection,
            queue,
            handler,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            max_attempts=max_attempts,
            fetch_timeout=self._fetch_timeout,
        )
