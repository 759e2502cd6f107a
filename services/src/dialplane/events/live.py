"""Live views of the event stream: events committed from now on, fanned out to in-process subscribers
(server-sent events, dashboards). Unlike a consumer group nothing is stored: a subscriber sees, in delivery
order, what the view delivers while it is subscribed — what commits from then on, and possibly a few events
that committed just before and had not been delivered yet — and nothing older.

One :class:`LiveEvents` runner per process tails the streams once (a single query per wake-up, however
many subscribers) and hands each event to every subscriber whose filter accepts it. Each subscriber has a
bounded queue; one that falls too far behind is ended (its iterator stops after a :data:`LAGGED` marker),
so a slow client can never make the process hold an unbounded backlog.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import text

from dialplane.db import SessionFactory, transaction
from dialplane.events.pg_consumer import NEXT_EVENTS, event_from_row
from dialplane.events.types import LAGGED, Event, EventFilter, Lagged
from dialplane.events.wakeup import EVENTS_CHANNEL, Listener, Signal
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

SUBSCRIBERS = Gauge("live_event_subscribers", "Subscribers of the live event view.", namespace=NAMESPACE)
LAGGED_SUBSCRIBERS = Counter(
    "live_event_subscribers_lagged_total",
    "Live subscribers ended because they fell too far behind.",
    namespace=NAMESPACE,
)

_HORIZON = text("SELECT pg_snapshot_xmin(pg_current_snapshot())")
BLOCKED_RECHECK_SECONDS = 0.01


@dataclass(eq=False)
class _Subscriber:
    accepts: EventFilter
    queue: asyncio.Queue[Event | Lagged] = field(default_factory=lambda: asyncio.Queue(1000))
    ended: bool = False


class LiveEvents:
    """Tails ``streams`` and fans events out to subscribers; a :class:`~dialplane.events.Runner`."""

    def __init__(
        self,
        sessions: SessionFactory,
        listener: Listener,
        streams: Sequence[str],
        *,
        poll_interval: float = 1.0,
        batch_size: int = 500,
    ) -> None:
        self.name = "live-events"
        self._sessions = sessions
        self._listener = listener
        self._streams = list(streams)
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._subscribers: set[_Subscriber] = set()
        self._signal = Signal()
        self._stopping = False
        self._position: tuple[int, int] | None = None
        self.started = asyncio.Event()

    def stop(self) -> None:
        self._stopping = True
        self._signal.set()

    async def run(self) -> None:
        try:
            with self._listener.registered(EVENTS_CHANNEL, self._streams, self._signal):
                await self._loop()
        finally:
            for subscriber in list(self._subscribers):
                self._end(subscriber)

    async def subscribe(self, accepts: EventFilter = lambda _event: True) -> AsyncIterator[Event | Lagged]:
        """Events accepted by ``accepts`` from now on; ends with :data:`LAGGED` if the subscriber lags."""
        await self.started.wait()
        subscriber = _Subscriber(accepts)
        self._subscribers.add(subscriber)
        SUBSCRIBERS.inc()
        try:
            while True:
                item = await subscriber.queue.get()
                yield item
                if isinstance(item, Lagged):
                    return
        finally:
            self._subscribers.discard(subscriber)
            SUBSCRIBERS.dec()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                wait = await self._poll()
            except Exception:
                log.exception("live_events_poll_failed")
                wait = self._poll_interval
            if wait:
                await self._signal.wait(wait)

    async def _poll(self) -> float:
        """Fan out the next deliverable events; returns how long to wait before the next poll (0: at once)."""
        async with transaction(self._sessions) as session:
            if self._position is None:  # start at the horizon: everything from now on
                self._position = (int(await session.scalar(_HORIZON)), 0)
                self.started.set()
            params = {
                "tx_id": self._position[0],
                "event_id": self._position[1],
                "streams": self._streams,
                "limit": self._batch_size,
            }
            rows = (await session.execute(NEXT_EVENTS, params)).mappings().all()
        deliverable = list(itertools.takewhile(lambda row: row["deliverable"], rows))
        for row in deliverable:
            self._fan_out(event_from_row(row))
            self._position = (int(row["tx_id"]), int(row["id"]))
        if len(deliverable) == self._batch_size:
            return 0.0
        return BLOCKED_RECHECK_SECONDS if rows and not deliverable else self._poll_interval

    def _fan_out(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.ended or not subscriber.accepts(event):
                continue
            if subscriber.queue.qsize() >= subscriber.queue.maxsize - 1:
                LAGGED_SUBSCRIBERS.inc()
                self._end(subscriber)
            else:
                subscriber.queue.put_nowait(event)

    def _end(self, subscriber: _Subscriber) -> None:
        if not subscriber.ended:
            subscriber.ended = True
            subscriber.queue.put_nowait(LAGGED)
