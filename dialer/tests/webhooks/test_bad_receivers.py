"""Status callbacks to receivers that misbehave, through the whole dialer (API, calls consumer, runner):
one answers after the webhook timeout, one answers 500 every time, one accepts the connection and never
answers. Calls are created and their status changes applied as fast as ever; every delivery is attempted
exactly ``webhook_max_attempts`` times with growing delays, ends ``failed`` with the last error, and is
counted in ``/metrics``; a well-behaved receiver meanwhile gets its callbacks at once."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dialer.settings import Settings
from dialer.testing import consumer_caught_up, dialer_client, publish_bridge_event, wait_for_call
from dialer.webhooks import repository
from dialer.webhooks.repository import Delivery
from dialer.webhooks.testing import Receiver, serving_receiver
from dialplane.calls import CallStatus
from dialplane.db import SessionFactory, transaction
from dialplane.events import PostgresEventStream
from dialplane.testing.http import serving

TIMEOUT = 0.5
MAX_ATTEMPTS = 3
BACKOFF_BASE = 0.2  # waits after attempt 1 and 2: 0.1-0.2 s and 0.2-0.4 s
WEBHOOK_SETTINGS = {
    "webhook_allow_private_targets": True,
    "webhook_timeout_seconds": TIMEOUT,
    "webhook_max_attempts": MAX_ATTEMPTS,
    "webhook_backoff_base_seconds": BACKOFF_BASE,
    "webhook_backoff_cap_seconds": 1.0,
    "webhook_concurrency": 32,  # more than the bad calls: each holds at most one slot (order per call)
    "webhook_poll_interval_seconds": 0.05,
}
SLOW_ANSWER_SECONDS = 1.0
CALLS_PER_RECEIVER = 7  # 21 calls, 2 callbacks each
BAD_EVENTS = ["queued", "completed"]
LIFECYCLE = [
    CallStatus.QUEUED,
    CallStatus.DIALING,
    CallStatus.RINGING,
    CallStatus.ANSWERED,
    CallStatus.COMPLETED,
]
TIMED_OUT = (f"timed out after {TIMEOUT:g} s", None)
EXPECTED_ERROR = {"slow": TIMED_OUT, "failing": ("HTTP 500", 500), "silent": TIMED_OUT}  # (error, status)


class SlowReceiver:
    """Answers 200, but only :data:`SLOW_ANSWER_SECONDS` after each request arrived; records the
    ``X-Dialplane-Delivery`` of each request."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])

    async def _handle(self, request: Request) -> Response:
        await request.body()
        self.hits.append(request.headers.get("x-dialplane-delivery", ""))
        await asyncio.sleep(SLOW_ANSWER_SECONDS)
        return Response(status_code=200)


class SilentReceiver:
    """A raw TCP server: accepts each connection, reads the request, and never answers; records the
    ``X-Dialplane-Delivery`` of each request."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self._writers: set[asyncio.StreamWriter] = set()

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._swallow, "127.0.0.1", 0)
        try:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        finally:
            server.close()
            for writer in list(self._writers):
                writer.close()
            await server.wait_closed()

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.hits.append(_header(head, "x-dialplane-delivery"))
            while await reader.read(65536):  # until the client gives up and hangs up
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


def _header(head: bytes, name: str) -> str:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return ""


@dataclass
class Storm:
    """The running dialer, the receivers, and the bad calls created while the receivers misbehave."""

    client: httpx.AsyncClient
    sessions: SessionFactory
    stream: PostgresEventStream
    urls: dict[str, str]  # receiver kind -> callback URL
    hits: dict[str, Callable[[], list[str]]]  # receiver kind -> the delivery id of each request
    good: Receiver
    calls: dict[str, list[str]] = field(default_factory=dict)  # receiver kind -> call ids
    post_seconds: list[float] = field(default_factory=list)

    async def create_call(self, url: str, events: list[str]) -> str:
        body = {"to": "+12025550100", "status_callback": url, "status_callback_events": events}
        started = time.perf_counter()
        response = await self.client.post("/api/v1/calls", json=body)
        self.post_seconds.append(time.perf_counter() - started)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def start(self) -> None:
        """One call per bad receiver; once each is being hit, the others."""
        for kind, url in self.urls.items():
            self.calls[kind] = [await self.create_call(url, BAD_EVENTS)]
        async with asyncio.timeout(5):
            while not all(hits() for hits in self.hits.values()):
                await asyncio.sleep(0.01)
        for _ in range(CALLS_PER_RECEIVER - 1):
            for kind, url in self.urls.items():
                self.calls[kind].append(await self.create_call(url, BAD_EVENTS))

    def all_calls(self) -> list[str]:
        return [call_id for ids in self.calls.values() for call_id in ids]

    async def complete(self, call_id: str) -> None:
        """Publish the bridge's events of an answered call up to completed."""
        for previous, status in itertools.pairwise(LIFECYCLE):
            await publish_bridge_event(self.sessions, self.stream, call_id, status, previous)

    async def complete_all(self) -> None:
        for call_id in self.all_calls():
            await self.complete(call_id)

    async def deliveries(self) -> dict[str, list[Delivery]]:
        """Every bad call's deliveries by receiver kind."""
        async with transaction(self.sessions) as session:
            return {
                kind: [d for call_id in ids for d in await repository.list_for_call(session, call_id)]
                for kind, ids in self.calls.items()
            }

    async def assert_still_retrying(self) -> None:
        """Every call of the slow and silent receivers still has a callback being tried."""
        by_kind = await self.deliveries()
        for kind in ("slow", "silent"):
            waiting = {d.call_id for d in by_kind[kind] if d.status == "pending"}
            assert waiting == set(self.calls[kind]), kind

    async def settled(self, within: float = 30.0) -> dict[str, list[Delivery]]:
        async with asyncio.timeout(within):
            while True:
                by_kind = await self.deliveries()
                if all(d.status != "pending" for found in by_kind.values() for d in found):
                    return by_kind
                await asyncio.sleep(0.1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=WEBHOOK_SETTINGS)


@pytest_asyncio.fixture
async def storm(
    settings: Settings, sessions: SessionFactory, event_stream: PostgresEventStream
) -> AsyncIterator[Storm]:
    slow, silent = SlowReceiver(), SilentReceiver()
    async with AsyncExitStack() as stack:
        failing = await stack.enter_async_context(serving_receiver())
        good = await stack.enter_async_context(serving_receiver())
        urls = {
            "slow": f"{await stack.enter_async_context(serving(slow.app))}/slow",
            "failing": failing.answer("failing", then=500),
            "silent": f"{await stack.enter_async_context(silent.serving())}/silent",
        }
        hits = {
            "slow": lambda: slow.hits,
            "failing": lambda: [r.headers["x-dialplane-delivery"] for r in failing.received("failing")],
            "silent": lambda: silent.hits,
        }
        client = await stack.enter_async_context(dialer_client(settings))
        yield Storm(client, sessions, event_stream, urls, hits, good)


async def deliveries_counted(client: httpx.AsyncClient) -> dict[str, float]:
    """``dialplane_webhook_deliveries_total`` by outcome, as the dialer's ``/metrics`` shows it."""
    text = (await client.get("/metrics")).text
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "dialplane_webhook_deliveries_total"
    }


async def test_calls_are_created_and_applied_at_full_speed_while_every_receiver_misbehaves(
    storm: Storm,
) -> None:
    await storm.start()
    assert len(storm.post_seconds) == 3 * CALLS_PER_RECEIVER
    assert max(storm.post_seconds) < 1.0, storm.post_seconds
    assert statistics.median(storm.post_seconds) < TIMEOUT / 2, storm.post_seconds

    started = time.monotonic()
    await storm.complete_all()
    await consumer_caught_up(storm.sessions)
    applied_in = time.monotonic() - started

    for call_id in storm.all_calls():
        await wait_for_call(storm.client, call_id, "completed", within=0.5)
    await storm.assert_still_retrying()
    assert applied_in < 5.0, applied_in  # 84 events; waiting on deliveries would take >= 1.5 s per call


async def test_each_callback_is_tried_max_attempts_times_with_growing_delays_then_failed_and_counted(
    storm: Storm,
) -> None:
    counted_before = await deliveries_counted(storm.client)
    await storm.start()
    await storm.complete_all()

    by_kind = await storm.settled()
    waits: list[list[float]] = []
    for kind, found in by_kind.items():
        assert len(found) == CALLS_PER_RECEIVER * len(BAD_EVENTS), kind
        error, status_code = EXPECTED_ERROR[kind]
        assert {(d.status, d.attempts, d.last_error, d.last_status_code) for d in found} == {
            ("failed", MAX_ATTEMPTS, error, status_code)
        }
        received = Counter(storm.hits[kind]())
        assert received == {str(d.id): MAX_ATTEMPTS for d in found}, kind
        waits += [await waits_between_attempts(storm, d, error, status_code) for d in found]

    after_first, after_second = zip(*waits, strict=True)
    assert all(BACKOFF_BASE / 2 - 0.005 <= w < BACKOFF_BASE + 0.5 for w in after_first), after_first
    assert all(BACKOFF_BASE - 0.005 <= w < 2 * BACKOFF_BASE + 0.5 for w in after_second), after_second
    assert statistics.mean(after_second) > 1.4 * statistics.mean(after_first)

    bad_deliveries = sum(len(found) for found in by_kind.values())
    counted = await deliveries_counted(storm.client)
    increase = {outcome: counted[outcome] - counted_before.get(outcome, 0.0) for outcome in counted}
    assert increase == {
        "delivered": 0,
        "retry": (MAX_ATTEMPTS - 1) * bad_deliveries,
        "failed": bad_deliveries,
        "refused": 0,
    }


async def waits_between_attempts(
    storm: Storm, delivery: Delivery, error: str, status_code: int | None
) -> list[float]:
    """The seconds from the end of each attempt to the start of the next, after checking the attempt log."""
    async with transaction(storm.sessions) as session:
        attempts = await repository.list_attempts(session, delivery.id)
    assert [(a.attempt, a.error, a.status_code) for a in attempts] == [
        (n, error, status_code) for n in range(1, MAX_ATTEMPTS + 1)
    ]
    ends = [a.started_at.timestamp() + (a.duration_ms or 0) / 1000 for a in attempts]
    return [b.started_at.timestamp() - end for end, b in zip(ends, attempts[1:], strict=False)]


async def test_a_good_receiver_gets_its_callbacks_at_once_while_the_bad_ones_are_retried(
    storm: Storm,
) -> None:
    await storm.start()
    url = storm.good.answer("good")
    started = time.monotonic()
    call_id = await storm.create_call(url, ["queued", "answered", "completed"])
    await storm.good.wait_for(1, "good", within=5)
    queued_in = time.monotonic() - started
    started = time.monotonic()
    await storm.complete(call_id)
    arrived = await storm.good.wait_for(3, "good", within=5)
    completed_in = time.monotonic() - started

    assert [r.event_type for r in arrived] == ["call.queued", "call.answered", "call.completed"]
    assert queued_in < TIMEOUT, queued_in  # never queued behind attempts waiting for their timeout
    assert completed_in < TIMEOUT, completed_in
    await storm.assert_still_retrying()
    async with transaction(storm.sessions) as session:
        good = await repository.list_for_call(session, call_id)
    assert [(d.status, d.attempts) for d in good] == [("delivered", 1)] * 3
