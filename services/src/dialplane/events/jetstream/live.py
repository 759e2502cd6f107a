"""Live views on JetStream: an ordered, ephemeral consumer from the end of the events stream (nothing
stored, nothing from before), fanned out to in-process subscribers exactly as the PostgreSQL view does
(same bounded queues, same :data:`~dialplane.events.LAGGED` ending). Reading the stream rather than the
plain subjects means a relay's re-published duplicate, dropped by JetStream, is never shown twice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from dialplane.db import SessionFactory
from dialplane.events.jetstream.connection import NatsConnection
from dialplane.events.jetstream.layout import decode_event
from dialplane.events.live import LiveEvents
from dialplane.events.wakeup import Listener

log = structlog.get_logger(__name__)


class JetStreamLiveEvents(LiveEvents):
    """Subscribes once per process and fans events of ``streams`` out; a :class:`~dialplane.events.Runner`."""

    def __init__(
        self,
        sessions: SessionFactory,
        listener: Listener,
        connection: NatsConnection,
        streams: Sequence[str],
    ) -> None:
        super().__init__(sessions, listener, streams)
        self._connection = connection
        self._wanted = set(streams)
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        super().stop()
        self._stopped.set()

    async def run(self) -> None:
        layout = self._connection.layout
        subject = layout.stream_events(self._streams[0]) if len(self._streams) == 1 else layout.all_events
        subscription = await self._connection.js.subscribe(
            subject,
            stream=layout.events_stream,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        self.started.set()
        try:
            await self._stopped.wait()
        finally:
            await subscription.unsubscribe()
            for subscriber in list(self._subscribers):
                self._end(subscriber)

    async def _on_message(self, message: Msg) -> None:
        try:
            event = decode_event(message.data).event
        except ValueError:
            log.exception("live_event_undecodable", subject=message.subject)
            return
        if event.stream in self._wanted:
            self._fan_out(event)
