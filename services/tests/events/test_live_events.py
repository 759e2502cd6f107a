"""Live views of the event stream: subscribers get what commits while they listen, in delivery order,
filtered, never anything from before; a subscriber that falls behind is ended instead of buffered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio
from prometheus_client import REGISTRY

from dialplane.db import SessionFactory, transaction
from dialplane.events import LAGGED, Event, Lagged, NewEvent, PostgresEventStream
from dialplane.events.live import LiveEvents
from dialplane.testing.events import running

Publish = Callable[..., Awaitable[None]]


def event(key: str, seq: int, stream: str = "calls") -> NewEvent:
    return NewEvent(stream=stream, key=key, type="call.test", data={"seq": seq})


@pytest_asyncio.fixture
async def live(event_stream: PostgresEventStream) -> AsyncIterator[LiveEvents]:
    view = event_stream.live(["calls"])
    async with running(view):
        await asyncio.wait_for(view.started.wait(), 10)
        yield view


async def take(subscription: AsyncIterator[Event | Lagged], count: int) -> list[Event | Lagged]:
    items: list[Event | Lagged] = []
    async with asyncio.timeout(10):
        async for item in subscription:
            items.append(item)
            if len(items) == count:
                break
    return items


def lagged_subscribers() -> float:
    return REGISTRY.get_sample_value("dialplane_live_event_subscribers_lagged_total") or 0.0


def seqs(items: list[Event | Lagged]) -> list[int]:
    return [int(item.data["seq"]) for item in items if isinstance(item, Event)]


async def test_a_subscriber_gets_only_what_commits_after_it_subscribed(
    live: LiveEvents, publish: Publish
) -> None:
    await publish(event("a", 1))
    await asyncio.sleep(0.3)  # the view has moved past it
    first = asyncio.ensure_future(take(live.subscribe(), 3))
    await asyncio.sleep(0.2)
    await publish(event("a", 2), event("b", 3))
    await publish(event("a", 4), NewEvent(stream="other", key="a", type="x"))
    assert seqs(await first) == [2, 3, 4]


async def test_a_filter_selects_the_events_of_one_call(live: LiveEvents, publish: Publish) -> None:
    subscription = live.subscribe(lambda e: e.key == "b")
    received = asyncio.ensure_future(take(subscription, 2))
    await asyncio.sleep(0.2)
    for seq in range(6):
        await publish(event("b" if seq % 2 else "a", seq))
    assert seqs(await received) == [1, 3]


async def test_an_event_of_an_older_open_transaction_is_not_skipped(
    live: LiveEvents, sessions: SessionFactory, event_stream: PostgresEventStream, publish: Publish
) -> None:
    received = asyncio.ensure_future(take(live.subscribe(), 2))
    await asyncio.sleep(0.2)
    async with transaction(sessions) as older:
        await event_stream.publish(older, event("x", 1))  # takes its transaction id first
        await publish(event("y", 2))  # a later transaction commits first
        await asyncio.sleep(0.3)
        assert not received.done()  # held back behind the open transaction, not delivered past it
    assert seqs(await received) == [1, 2]


async def test_a_subscriber_that_falls_behind_is_ended(live: LiveEvents, publish: Publish) -> None:
    subscription = live.subscribe()
    first = asyncio.ensure_future(take(subscription, 1))
    await asyncio.sleep(0.2)
    await publish(event("k", 0))
    await first  # subscribed and reading; now it stops reading while 1,100 events arrive
    lagged_before = lagged_subscribers()
    await publish(*(event(f"k{seq}", seq) for seq in range(1, 1101)))
    async with asyncio.timeout(30):  # the view fans them out meanwhile (slowly on a busy machine)
        while lagged_subscribers() == lagged_before:
            await asyncio.sleep(0.05)
    rest = await take(subscription, 2000)
    assert rest[-1] is LAGGED
    assert len(rest) < 1100
