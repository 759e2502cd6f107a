"""Per-key ordered processing of ARI events on a fixed pool of shard tasks.

Each key (normally a channel id) maps to one shard by a stable hash; a shard is one task draining one
bounded queue, so events with the same key are handled strictly in order while different shards progress in
parallel. There is never a task per event. :meth:`KeyedDispatcher.put` never blocks the WebSocket reader:
when the shard's queue is full the event is dropped and counted. An event whose handler failed (the
database was unreachable, say) is lost as much as a dropped one: both call ``on_drop``.

Metrics (label ``node`` = the dispatcher's ``name``): ``dialplane_ari_events_total{node,type}`` (received;
``type`` is an ARI event type or ``other``), ``dialplane_ari_events_dropped_total``,
``dialplane_ari_event_lag_seconds`` (handling start - event timestamp) and ``dialplane_ari_events_late_total``
(lag above ``late_after`` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from prometheus_client import Counter, Histogram

from ari_bridge.ari.events import AriEvent, metric_type
from dialplane.metrics import LATENCY_BUCKETS, NAMESPACE

__all__ = ["EventHandler", "KeyedDispatcher"]

log = structlog.get_logger(__name__)

EVENTS = Counter(
    "ari_events_total", "ARI events received, by node and type.", ["node", "type"], namespace=NAMESPACE
)
EVENTS_DROPPED = Counter(
    "ari_events_dropped_total",
    "ARI events dropped because a shard queue was full.",
    ["node"],
    namespace=NAMESPACE,
)
EVENTS_LATE = Counter(
    "ari_events_late_total",
    "ARI events handled later than the lateness threshold.",
    ["node"],
    namespace=NAMESPACE,
)
EVENT_LAG = Histogram(
    "ari_event_lag_seconds",
    "Time from an ARI event's timestamp to the start of its handling.",
    ["node"],
    namespace=NAMESPACE,
    buckets=LATENCY_BUCKETS,
)

EventHandler = Callable[[AriEvent], Awaitable[None]]
_Shard = asyncio.Queue[tuple[str | None, AriEvent]]
DROP_LOG_INTERVAL_SECONDS = 1.0


class KeyedDispatcher:
    """Hand events to ``handler``, in order per key, on ``shards`` tasks with queues of ``queue_size``."""

    def __init__(
        self,
        handler: EventHandler,
        *,
        shards: int = 8,
        queue_size: int = 1000,
        name: str,
        late_after: float = 1.0,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        if shards < 1 or queue_size < 1:
            raise ValueError("shards and queue_size must be at least 1")
        self.name = name
        self.late_after = late_after
        # e.g. schedule a reconciliation: an event dropped, or not handled, is a lost status change
        self._on_drop = on_drop
        self._handler = handler
        self._queues: list[_Shard] = [asyncio.Queue(maxsize=queue_size) for _ in range(shards)]
        self._tasks: list[asyncio.Task[None]] = []
        self._last_drop_log = -DROP_LOG_INTERVAL_SECONDS
        self._drops_since_log = 0

    def shard_of(self, key: str | None) -> int:
        """The shard handling ``key`` (stable across processes; events without a key share one shard)."""
        return zlib.crc32((key or "").encode()) % len(self._queues)

    def put(self, key: str | None, event: AriEvent) -> None:
        """Queue ``event`` behind earlier events with the same ``key``; never blocks, drops when full."""
        EVENTS.labels(self.name, metric_type(event.type)).inc()
        try:
            self._queues[self.shard_of(key)].put_nowait((key, event))
        except asyncio.QueueFull:
            self._dropped(key, event)

    def put_event(self, event: AriEvent) -> None:
        """:meth:`put` keyed by the event's channel id: pass this as an :class:`AriEventSocket`'s on_event."""
        self.put(event.channel_id, event)

    @property
    def pending(self) -> int:
        """Events queued and not yet handled."""
        return sum(queue.qsize() for queue in self._queues)

    async def start(self) -> None:
        """Start the shard tasks (events put before are kept and handled)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run_shard(queue), name=f"ari-dispatch-{self.name}-{index}")
                for index, queue in enumerate(self._queues)
            ]

    async def idle(self) -> None:
        """Wait until every queued event has been handled."""
        await asyncio.gather(*(queue.join() for queue in self._queues))

    async def stop(self, drain_seconds: float = 5.0) -> None:
        """Handle what is queued (for up to ``drain_seconds``), then stop the shard tasks."""
        if self._tasks:
            try:
                await asyncio.wait_for(self.idle(), drain_seconds)
            except TimeoutError:
                log.warning("ari_dispatch_stop_undrained", node=self.name, pending=self.pending)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _run_shard(self, queue: _Shard) -> None:
        while True:
            key, event = await queue.get()
            try:
                await self._handle(key, event)
            finally:
                queue.task_done()

    async def _handle(self, key: str | None, event: AriEvent) -> None:
        self._observe_lag(event)
        try:
            await self._handler(event)
        except Exception:
            log.exception(
                "ari_event_handler_failed",
                node=self.name,
                event_type=event.type,
                key=key,
                channel_id=event.channel_id,
            )
            if self._on_drop is not None:
                self._on_drop()

    def _observe_lag(self, event: AriEvent) -> None:
        if event.timestamp is None:
            return
        stamp = event.timestamp if event.timestamp.tzinfo else event.timestamp.replace(tzinfo=UTC)
        lag = max(0.0, (datetime.now(UTC) - stamp).total_seconds())
        EVENT_LAG.labels(self.name).observe(lag)
        if lag > self.late_after:
            EVENTS_LATE.labels(self.name).inc()

    def _dropped(self, key: str | None, event: AriEvent) -> None:
        EVENTS_DROPPED.labels(self.name).inc()
        if self._on_drop is not None:
            self._on_drop()
        self._drops_since_log += 1
        now = time.monotonic()
        if now - self._last_drop_log >= DROP_LOG_INTERVAL_SECONDS:
            log.warning(
                "ari_events_dropped",
                node=self.name,
                dropped=self._drops_since_log,
                event_type=event.type,
                channel_id=key,
                shard=self.shard_of(key),
            )
            self._last_drop_log = now
            self._drops_since_log = 0
