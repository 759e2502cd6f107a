"""Consumer groups on JetStream.

A group is one durable pull consumer per (stream, key bucket), each with ``max_ack_pending=1``: JetStream
hands a bucket's events out one at a time, in stream order (the relay's ``(tx_id, id)`` order), whichever
process of the group asks, so events of one key are handled in publish order even with several instances.
Buckets are independent: one slow key holds back only its bucket. Within one instance handlers run one at
a time, as with the PostgreSQL backend.

Each event is handled in its own transaction, which also moves the (group, stream, bucket) position kept
in ``event_consumer_groups``; the message is acknowledged after the commit. An event delivered again
(a crash between commit and ack, or a relay duplicate older than JetStream's duplicate window) is at or
behind that position and is acknowledged without calling the handler: the handlers' database effects
happen once, as with the PostgreSQL backend.

A handler that raises rolls back and the message is negatively acknowledged with a backoff; its bucket
waits (one in flight). After ``max_attempts`` failures the event goes to ``event_dead_letters`` and the
bucket moves on. The server's ``max_deliver`` is ``max_attempts + 1``: a delivery beyond ``max_attempts``
(instances that died while handling it) is dead-lettered without running the handler.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import structlog
from nats.aio.msg import Msg
from sqlalchemy import text

from dialplane.db import SessionFactory, transaction
from dialplane.events.interface import StartFrom
from dialplane.events.jetstream.connection import BucketConsumer, NatsConnection, PullLoops, in_progress
from dialplane.events.jetstream.layout import RelayedEvent, decode_event
from dialplane.events.pg_consumer import CONSUMER_LAG, EVENTS_CONSUMED, EVENTS_FAILED
from dialplane.events.types import EventHandler

log = structlog.get_logger(__name__)

# Moves the position forward and says so; returns nothing if the event is at or behind it (a duplicate).
# The row lock it takes also makes a concurrent duplicate wait for this transaction's outcome.
_ADVANCE = text(
    """
    INSERT INTO event_consumer_groups AS g (group_name, tx_id, event_id)
    VALUES (:name, CAST(:tx_id AS xid8), :event_id)
    ON CONFLICT (group_name) DO UPDATE
        SET tx_id = EXCLUDED.tx_id, event_id = EXCLUDED.event_id, updated_at = clock_timestamp()
        WHERE (g.tx_id, g.event_id) < (EXCLUDED.tx_id, EXCLUDED.event_id)
    RETURNING true
    """
)
_DEAD_LETTER = text(
    "INSERT INTO event_dead_letters (group_name, event_id, error) VALUES (:group, :event_id, :error)"
)


class JetStreamConsumer:
    """Delivers the events of ``streams`` to ``handler`` for one consumer group."""

    def __init__(
        self,
        sessions: SessionFactory,
        connection: NatsConnection,
        group: str,
        streams: Sequence[str],
        handler: EventHandler,
        *,
        start_from: StartFrom,
        max_attempts: int,
        ack_wait: float,
        fetch_timeout: float,
    ) -> None:
        self.name = f"consumer:{group}"
        self.group = group
        self._sessions = sessions
        self._connection = connection
        self._streams = list(streams)
        self._handler = handler
        self._start_from = start_from
        self._max_attempts = max_attempts
        self._ack_wait = ack_wait
        self._loops = PullLoops(fetch_timeout)
        self._one_at_a_time = asyncio.Lock()

    def stop(self) -> None:
        self._loops.stopping = True

    async def run(self) -> None:
        layout = self._connection.layout
        consumers = [
            BucketConsumer(
                stream=layout.events_stream,
                durable=layout.group_consumer(self.group, stream, bucket),
                subject=layout.event_subject(stream, bucket),
                ack_wait=self._ack_wait,
                max_deliver=self._max_attempts + 1,
                deliver_new=self._start_from == "latest",
            )
            for stream in self._streams
            for bucket in range(layout.buckets)
        ]
        await self._loops.run(self._connection.js, consumers, self._process)

    def _position_name(self, consumer: BucketConsumer) -> str:
        return f"jetstream:{self._connection.layout.prefix}:{consumer.durable}"

    async def _process(self, message: Msg, consumer: BucketConsumer) -> None:
        relayed = decode_event(message.data)
        attempt = message.metadata.num_delivered or 1
        position = self._position_name(consumer)
        if attempt > self._max_attempts:
            await self._dead_letter(
                relayed, position, "attempts exhausted (consumer lost or ack wait expired)"
            )
            await message.ack()
            return
        async with in_progress(message, self._ack_wait), self._one_at_a_time:
            try:
                await self._handle(relayed, position)
            except Exception as exc:
                await self._after_failure(message, relayed, position, attempt, exc)
                return
        await message.ack()

    async def _handle(self, relayed: RelayedEvent, position: str) -> None:
        event = relayed.event
        async with transaction(self._sessions) as session:
            params = {"name": position, "tx_id": relayed.tx_id, "event_id": event.id}
            if not await session.scalar(_ADVANCE, params):
                log.info("event_duplicate_skipped", group=self.group, event_id=event.id)
                return
            await self._handler(session, event)
        EVENTS_CONSUMED.labels(self.group).inc()
        CONSUMER_LAG.labels(self.group).set(max(time.time() - event.created_at.timestamp(), 0))

    async def _after_failure(
        self, message: Msg, relayed: RelayedEvent, position: str, attempt: int, error: Exception
    ) -> None:
        log_fields = {
            "group": self.group,
            "event_id": relayed.event.id,
            "event_type": relayed.event.type,
            "attempt": attempt,
            "error": repr(error),
        }
        if attempt < self._max_attempts:
            EVENTS_FAILED.labels(self.group, "retry").inc()
            log.warning("event_handler_failed", **log_fields)
            await message.nak(delay=min(0.05 * 2**attempt, 30.0))
            return
        EVENTS_FAILED.labels(self.group, "dead_letter").inc()
        log.error("event_dead_lettered", **log_fields)
        await self._dead_letter(relayed, position, repr(error))
        await message.ack()

    async def _dead_letter(self, relayed: RelayedEvent, position: str, error: str) -> None:
        async with transaction(self._sessions) as session:
            params = {"name": position, "tx_id": relayed.tx_id, "event_id": relayed.event.id}
            if await session.scalar(_ADVANCE, params):
                await session.execute(
                    _DEAD_LETTER, {"group": self.group, "event_id": relayed.event.id, "error": error[:2000]}
                )
