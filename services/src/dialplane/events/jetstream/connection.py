"""The NATS connection of one process, the two JetStream streams, and what every bucket consumer shares:
its configuration, the pull loop, and the ack-wait heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from dialplane.events.jetstream.layout import Layout

log = structlog.get_logger(__name__)

DUPLICATE_WINDOW_SECONDS = 120.0  # a relay that crashed re-publishes within this window without duplicates


class NatsConnection:
    """Connects at ``start``; runners created before that take :attr:`js` only when they run."""

    def __init__(self, url: str, layout: Layout, *, client_name: str = "dialplane") -> None:
        self.url = url
        self.layout = layout
        self._client_name = client_name
        self._client: NatsClient | None = None
        self._js: JetStreamContext | None = None

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("the JetStream event stream is not started")
        return self._js

    async def connect(self) -> None:
        self._client = await nats.connect(
            self.url, name=self._client_name, max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        self._js = self._client.jetstream()
        await ensure_streams(self._js, self.layout)

    async def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.drain()
            self._client = self._js = None


async def ensure_streams(js: JetStreamContext, layout: Layout) -> None:
    """Create the events and commands streams unless they exist (an existing one is left as it is)."""
    for config in (
        StreamConfig(
            name=layout.events_stream,
            subjects=[layout.all_events],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
        StreamConfig(
            name=layout.commands_stream,
            subjects=[layout.all_commands],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
    ):
        assert config.name is not None
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)


@dataclass(frozen=True)
class BucketConsumer:
    """One durable consumer: one bucket of one stream or queue, one message in flight at a time."""

    stream: str  # the JetStream stream
    durable: str
    subject: str
    ack_wait: float
    max_deliver: int
    deliver_new: bool = False  # only messages stored after it was created ("latest")

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.subject,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            max_deliver=self.max_deliver,
            max_ack_pending=1,
            deliver_policy=DeliverPolicy.NEW if self.deliver_new else DeliverPolicy.ALL,
        )

    async def subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        """Bind to the consumer, creating it first if it does not exist (its settings then stay)."""
        return await js.pull_subscribe(
            self.subject, durable=self.durable, stream=self.stream, config=self.config()
        )


class PullLoops:
    """Pulls one message at a time from each bucket consumer and hands it to ``process``, until stopped.

    Stopping lets the pending fetches expire (at most ``fetch_timeout``) instead of cancelling them: a
    cancelled pull request would stay on the server and could take a message for nobody, delaying it by
    an ack wait."""

    def __init__(self, fetch_timeout: float) -> None:
        self._fetch_timeout = fetch_timeout
        self.stopping = False

    async def run(
        self,
        js: JetStreamContext,
        consumers: list[BucketConsumer],
        process: Callable[[Msg, BucketConsumer], Awaitable[None]],
    ) -> None:
        subscriptions = [await consumer.subscribe(js) for consumer in consumers]
        try:
            await asyncio.gather(
                *(
                    self._pull(subscription, consumer, process)
                    for subscription, consumer in zip(subscriptions, consumers, strict=True)
                )
            )
        finally:
            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def _pull(
        self,
        subscription: JetStreamContext.PullSubscription,
        consumer: BucketConsumer,
        process: Callable[[Msg, BucketConsumer], Awaitable[None]],
    ) -> None:
        while not self.stopping:
            try:
                messages = await subscription.fetch(1, timeout=self._fetch_timeout)
            except TimeoutError:
                continue
            except Exception:
                log.exception("jetstream_fetch_failed", consumer=consumer.durable)
                await asyncio.sleep(self._fetch_timeout)
                continue
            for message in messages:
                try:
                    await process(message, consumer)
                except Exception:  # left unacknowledged: JetStream redelivers it after the ack wait
                    log.exception("jetstream_message_failed", consumer=consumer.durable)


@contextlib.asynccontextmanager
async def in_progress(message: Msg, ack_wait: float) -> AsyncIterator[None]:
    """Tell JetStream every third of ``ack_wait`` that ``message`` is still being worked on, so it is not
    redelivered while this process is alive; a process that dies stops, and the message comes back."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(ack_wait / 3)
            with contextlib.suppress(Exception):
                await message.in_progress()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
