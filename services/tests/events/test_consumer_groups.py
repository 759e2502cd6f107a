"""Consumer groups on both backends: transactional publish, order per key, no skipped ids with
concurrent writers, resume after restart, failure handling, wake-ups (the
last three test PostgreSQL-backend mechanisms only)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import text

from dialplane.db import RetryableTransactionError, SessionFactory, run_in_transaction, transaction
from dialplane.events import Event, EventStream, NewEvent, PostgresEventStream
from dialplane.testing.events import Collector, running, wait_until_events_deliverable

Publish = Callable[..., Awaitable[None]]


def event(key: str, seq: int, stream: str = "calls") -> NewEvent:
    return NewEvent(stream=stream, key=key, type="call.test", data={"seq": seq})


def per_key(events: Sequence[Event]) -> dict[str, list[int]]:
    """The ``seq`` of each key's events, in delivery order."""
    by_key: dict[str, list[int]] = {}
    for ev in events:
        by_key.setdefault(ev.key, []).append(int(ev.data["seq"]))
    return by_key


async def test_event_commits_with_its_state_change_or_not_at_all(
    sessions: SessionFactory, event_stream: EventStream, scratch_table: str
) -> None:
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            await session.execute(text("INSERT INTO scratch_state VALUES ('a')"))
            await event_stream.publish(session, event("a", 1))
            raise RuntimeError("the change fails after the event was written")
    async with transaction(sessions) as session:
        await session.execute(text("INSERT INTO scratch_state VALUES ('b')"))
        await event_stream.publish(session, event("b", 1))

    collector = Collector()
    async with running(event_stream.consumer("g", ["calls"], collector.handle)):
        await collector.wait_for(1)
        await asyncio.sleep(0.3)
    async with transaction(sessions) as session:
        state = (await session.execute(text("SELECT id FROM scratch_state"))).scalars().all()
    assert [e.key for e in collector.events] == ["b"]
    assert state == ["b"]


async def test_groups_each_see_every_event_in_order_per_key(
    event_stream: EventStream, publish: Publish
) -> None:
    for seq in range(1, 21):
        await publish(*(event(f"call-{k}", seq) for k in range(5)))
    first, second = Collector(), Collector()
    async with (
        running(event_stream.consumer("first", ["calls"], first.handle, batch_size=7)),
        running(event_stream.consumer("second", ["calls"], second.handle)),
    ):
        await first.wait_for(100)
        await second.wait_for(100)
    for collector in (first, second):
        assert sorted(collector.ids) == list(range(1, 101))
        assert all(seqs == list(range(1, 21)) for seqs in per_key(collector.events).values())


async def test_a_group_sees_only_its_streams(event_stream: EventStream, publish: Publish) -> None:
    await publish(event("c1", 1, stream="calls"), event("x1", 1, stream="campaigns"))
    collector = Collector()
    async with running(event_stream.consumer("calls-only", ["calls"], collector.handle)):
        await collector.wait_for(1)
        await asyncio.sleep(0.3)
    assert [e.stream for e in collector.events] == ["calls"]


async def test_no_event_is_skipped_with_twenty_concurrent_writers_and_random_commit_delays(
    sessions: SessionFactory, event_stream: EventStream
) -> None:
    """Writers take ids, then hold their transaction open a random while, so higher ids commit first.
    A reader that simply read past the highest id it saw would skip the late ones."""
    writers, per_writer = 20, 15
    collector = Collector()

    async def writer(number: int) -> None:
        for seq in range(1, per_writer + 1):
            async with transaction(sessions) as session:
                await event_stream.publish(session, event(f"writer-{number}", seq))
                await asyncio.sleep(random.uniform(0, 0.05))

    async with running(event_stream.consumer("reader", ["calls"], collector.handle, batch_size=5)):
        await asyncio.gather(*(writer(n) for n in range(writers)))
        await collector.wait_for(writers * per_writer, within=30)
        await asyncio.sleep(0.3)

    counts = Counter(collector.ids)
    assert len(counts) == writers * per_writer, "some events were never delivered"
    assert max(counts.values()) == 1, "an event was delivered twice without a failure"
    assert all(seqs == list(range(1, per_writer + 1)) for seqs in per_key(collector.events).values())


async def test_per_key_order_holds_when_an_older_transaction_publishes_after_a_newer_one(
    sessions: SessionFactory, event_stream: EventStream, scratch_table: str
) -> None:
    async with transaction(sessions) as older:
        await older.execute(text("INSERT INTO scratch_state VALUES ('older')"))  # takes its xid now
        await run_in_transaction(sessions, lambda s: event_stream.publish(s, event("k", 1)))
        with pytest.raises(RetryableTransactionError):
            await event_stream.publish(older, event("k", 2))
        await older.rollback()
    await run_in_transaction(sessions, lambda s: event_stream.publish(s, event("k", 2)))

    collector = Collector()
    async with running(event_stream.consumer("g", ["calls"], collector.handle)):
        await collector.wait_for(2)
    assert per_key(collector.events) == {"k": [1, 2]}


async def test_a_restarted_consumer_resumes_from_its_stored_position(
    event_stream: EventStream, publish: Publish
) -> None:
    await publish(*(event("k", seq) for seq in range(1, 6)))
    before = Collector()
    async with running(event_stream.consumer("g", ["calls"], before.handle)):
        await before.wait_for(5)
    await publish(*(event("k", seq) for seq in range(6, 9)))

    after = Collector()
    async with running(event_stream.consumer("g", ["calls"], after.handle)):
        await after.wait_for(3)
        await asyncio.sleep(0.3)
    assert [e.data["seq"] for e in after.events] == [6, 7, 8]


async def test_a_new_group_starting_from_latest_skips_history(
    sessions: SessionFactory, event_stream: EventStream, publish: Publish
) -> None:
    await publish(event("k", 1))
    await wait_until_events_deliverable(sessions)  # other databases' transactions count too
    collector = Collector()
    async with running(event_stream.consumer("late", ["calls"], collector.handle, start_from="latest")):
        await asyncio.sleep(0.5)
        await publish(event("k", 2))
        await collector.wait_for(1)
        await asyncio.sleep(0.3)
    assert [e.data["seq"] for e in collector.events] == [2]


async def test_a_failing_handler_is_retried_then_dead_lettered_without_blocking_the_group(
    sessions: SessionFactory, event_stream: EventStream, publish: Publish, scratch_table: str
) -> None:
    await publish(event("k", 1), event("k", 2), event("k", 3), event("k", 4))
    attempts: Counter[int] = Counter()

    async def handler(session: Any, ev: Event) -> None:
        attempts[ev.data["seq"]] += 1
        await session.execute(text("INSERT INTO scratch_state VALUES (:id)"), {"id": str(ev.data["seq"])})
        if ev.data["seq"] == 2:
            raise ValueError("cannot handle this one")

    async with running(event_stream.consumer("g", ["calls"], handler, max_attempts=3)):
        async with asyncio.timeout(15):
            while attempts[4] == 0:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    async with transaction(sessions) as session:
        dead = (await session.execute(text("SELECT event_id, error FROM event_dead_letters"))).all()
        written = (await session.execute(text("SELECT id FROM scratch_state ORDER BY id"))).scalars().all()
    assert attempts[2] == 3
    assert [(row.event_id, "cannot handle this one" in row.error) for row in dead] == [(2, True)]
    assert written == ["1", "3", "4"]  # each handled event's writes committed once; the failed one's never


@pytest.mark.postgres_backend_only
async def test_events_waiting_behind_an_open_transaction_are_delivered_soon_after_it_ends(
    sessions: SessionFactory, database_url: str, publish: Publish, scratch_table: str
) -> None:
    slow_poll = PostgresEventStream(sessions, database_url, poll_interval=30)
    await slow_poll.start()  # the publish's NOTIFY wakes the consumer; nothing wakes it when the blocker ends
    collector = Collector()
    async with running(slow_poll.consumer("g", ["calls"], collector.handle)):
        await asyncio.wait_for(slow_poll.listener.connected.wait(), 10)
        async with transaction(sessions) as blocker:
            await blocker.execute(text("INSERT INTO scratch_state VALUES ('holds an xid')"))
            await publish(event("k", 1))  # committed, but behind the open blocker
            await asyncio.sleep(0.5)
            assert collector.events == []
            await blocker.rollback()  # ends without publishing: no notification follows
        started = time.monotonic()
        await collector.wait_for(1, within=10)
        assert time.monotonic() - started < 5  # far below the 30 s poll interval
    await slow_poll.close()


@pytest.mark.postgres_backend_only
async def test_notify_wakes_a_consumer_long_before_its_poll_interval(
    sessions: SessionFactory, database_url: str, publish: Publish
) -> None:
    slow_poll = PostgresEventStream(sessions, database_url, poll_interval=30)
    await slow_poll.start()
    collector = Collector()
    try:
        async with running(slow_poll.consumer("g", ["calls"], collector.handle)):
            await asyncio.wait_for(slow_poll.listener.connected.wait(), 10)
            await asyncio.sleep(0.5)  # the consumer is idle, waiting for a wake-up
            started = time.monotonic()
            await publish(event("k", 1))
            await collector.wait_for(1, within=10)
            assert time.monotonic() - started < 10  # far below the 30 s poll: the NOTIFY woke it
    finally:
        await slow_poll.close()


@pytest.mark.postgres_backend_only
async def test_polling_delivers_when_notifications_are_not_listened_to(
    sessions: SessionFactory, database_url: str, publish: Publish
) -> None:
    no_listener = PostgresEventStream(sessions, database_url, poll_interval=0.2)  # never started
    collector = Collector()
    async with running(no_listener.consumer("g", ["calls"], collector.handle)):
        await asyncio.sleep(0.3)
        await publish(event("k", 1))
        await collector.wait_for(1, within=10)
