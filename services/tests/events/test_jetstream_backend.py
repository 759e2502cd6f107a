"""What the JetStream backend adds beyond the shared contract: the outbox relay's crash safety (Msg-Id
deduplication) and turn-taking, redelivery after a negative acknowledgement, per-key order with several
instances of a group, duplicate deliveries absorbed by the group's stored position, and the factory."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.js import JetStreamContext
from nats.js.api import PubAck
from sqlalchemy import text

from dialplane.db import SessionFactory, transaction
from dialplane.events import Command, Event, NewCommand, NewEvent, PostgresEventStream
from dialplane.events.jetstream import JetStreamEventStream, create_event_stream
from dialplane.events.jetstream.layout import bucket_of
from dialplane.events.jetstream.relay import OutboxRelay
from dialplane.testing.database import settings_for_tests
from dialplane.testing.events import Collector, running, wait_until_events_deliverable


def event(key: str, seq: int) -> NewEvent:
    return NewEvent(stream="calls", key=key, type="call.test", data={"seq": seq})


def per_key(events: list[Event]) -> dict[str, list[int]]:
    by_key: dict[str, list[int]] = {}
    for ev in events:
        by_key.setdefault(ev.key, []).append(int(ev.data["seq"]))
    return by_key


class RelayCrashedError(BaseException):
    """Stands for the relay process dying: not an ``Exception``, so nothing on the way catches it."""


class CrashingJetStream:
    """Passes the first ``publishes`` publishes to JetStream, then "crashes"; records the acks."""

    def __init__(self, js: JetStreamContext, publishes: int | None = None) -> None:
        self._js = js
        self._left = publishes
        self.acks: list[PubAck] = []

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> PubAck:
        if self._left is not None:
            if self._left == 0:
                raise RelayCrashedError
            self._left -= 1
        ack = await self._js.publish(subject, payload, headers=headers)
        self.acks.append(ack)
        return ack


def relay_through(stream: JetStreamEventStream, js: CrashingJetStream) -> OutboxRelay:
    return OutboxRelay(stream.sessions, js, stream.layout, stream.listener)  # type: ignore[arg-type]


async def new_stream(
    sessions: SessionFactory, database_url: str, nats_url: str, **options: Any
) -> JetStreamEventStream:
    stream = JetStreamEventStream(
        sessions,
        database_url,
        nats_url=nats_url,
        poll_interval=0.2,
        ack_wait_seconds=3.0,
        fetch_timeout=0.5,
        **options,
    )
    await stream.start()
    return stream


@pytest.fixture
async def jetstream(
    sessions: SessionFactory, database_url: str, nats_url: str
) -> AsyncIterator[JetStreamEventStream]:
    """A JetStream event stream on streams of its own, without a relay (tests run their own)."""
    stream = await new_stream(
        sessions, database_url, nats_url, prefix=f"t{uuid.uuid4().hex[:12]}", relay=False
    )
    try:
        yield stream
    finally:
        await stream.close()


async def acknowledged_up_to(stream: JetStreamEventStream, durable: str) -> int:
    """The stream sequence up to which the consumer ``durable`` has acknowledged everything."""
    info = await stream.connection.js.consumer_info(stream.layout.events_stream, durable)
    return info.ack_floor.stream_seq if info.ack_floor else 0


async def stored_messages(stream: JetStreamEventStream) -> int:
    info = await stream.connection.js.stream_info(stream.layout.events_stream)
    return info.state.messages


async def test_a_relay_that_dies_after_publishing_is_redone_without_duplicates(
    sessions: SessionFactory, jetstream: JetStreamEventStream
) -> None:
    """The relay publishes 3 of 6 events and dies before committing its position; the next relay sends
    all 6 again with the same Msg-Ids. JetStream keeps each once, in order, and a group gets each once."""
    async with transaction(sessions) as session:
        await jetstream.publish(session, *(event("k", seq) for seq in range(1, 7)))
    await wait_until_events_deliverable(sessions)
    crashing = CrashingJetStream(jetstream.connection.js, publishes=3)
    with pytest.raises(RelayCrashedError):
        await relay_through(jetstream, crashing).relay_events()
    assert await stored_messages(jetstream) == 3

    redo = CrashingJetStream(jetstream.connection.js)
    assert await relay_through(jetstream, redo).relay_events() == (6, False)
    assert [bool(ack.duplicate) for ack in redo.acks] == [True] * 3 + [False] * 3
    assert await stored_messages(jetstream) == 6

    collector = Collector()
    async with running(jetstream.consumer("g", ["calls"], collector.handle)):
        await collector.wait_for(6)
        await asyncio.sleep(0.5)
    assert collector.ids == [1, 2, 3, 4, 5, 6]


async def test_relays_of_several_processes_take_turns_without_reordering_a_key(
    sessions: SessionFactory, database_url: str, nats_url: str
) -> None:
    """Three relays run while ten writers publish: every event is stored once, each key in order."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    streams = [await new_stream(sessions, database_url, nats_url, prefix=prefix) for _ in range(3)]
    try:

        async def writer(number: int) -> None:
            for seq in range(1, 21):
                async with transaction(sessions) as session:
                    await streams[number % 3].publish(session, event(f"writer-{number}", seq))
                    await asyncio.sleep(random.uniform(0, 0.01))

        await asyncio.gather(*(writer(n) for n in range(10)))
        collector = Collector()
        async with running(streams[0].consumer("g", ["calls"], collector.handle)):
            await collector.wait_for(200, within=30)
            await asyncio.sleep(0.5)
        assert await stored_messages(streams[0]) == 200
        assert sorted(collector.ids) == list(range(1, 201))
        assert all(seqs == list(range(1, 21)) for seqs in per_key(collector.events).values())
    finally:
        for stream in streams:
            await stream.close()


async def test_a_negatively_acknowledged_event_comes_back_before_the_next_of_its_key(
    sessions: SessionFactory, jetstream: JetStreamEventStream
) -> None:
    calls: list[int] = []

    async def handler(_session: Any, ev: Event) -> None:
        calls.append(int(ev.data["seq"]))
        if len(calls) == 1:
            raise ConnectionError("the first attempt fails")

    async with transaction(sessions) as session:
        await jetstream.publish(session, event("k", 1), event("k", 2))
    await wait_until_events_deliverable(sessions)
    await relay_through(jetstream, CrashingJetStream(jetstream.connection.js)).relay_events()
    async with running(jetstream.consumer("g", ["calls"], handler)):
        async with asyncio.timeout(15):
            while len(calls) < 3:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    assert calls == [1, 1, 2]


async def test_a_failed_command_is_redelivered_with_its_attempt_count(
    sessions: SessionFactory, jetstream: JetStreamEventStream
) -> None:
    attempts: list[int] = []

    async def handler(_session: Any, command: Command) -> None:
        attempts.append(command.attempt)
        if command.attempt == 1:
            raise ConnectionError("far end busy")

    async with transaction(sessions) as session:
        await jetstream.send(session, NewCommand("originate", "call-1", "call.originate"))
    await relay_through(jetstream, CrashingJetStream(jetstream.connection.js)).relay_commands()
    async with running(jetstream.worker("originate", handler)):
        async with asyncio.timeout(15):
            while len(attempts) < 2:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    async with transaction(sessions) as session:
        left = await session.scalar(text("SELECT count(*) FROM commands"))
    assert attempts == [1, 2]
    assert left == 0


async def test_two_instances_of_a_group_share_the_work_and_keep_each_key_in_order(
    sessions: SessionFactory, database_url: str, nats_url: str
) -> None:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    first = await new_stream(sessions, database_url, nats_url, prefix=prefix)
    second = await new_stream(sessions, database_url, nats_url, prefix=prefix, relay=False)
    handled: list[tuple[str, Event]] = []
    busy: set[str] = set()
    overlaps: list[str] = []

    def handler_of(instance: str) -> Any:
        async def handle(_session: Any, ev: Event) -> None:
            if ev.key in busy:
                overlaps.append(ev.key)
            busy.add(ev.key)
            await asyncio.sleep(random.uniform(0, 0.005))
            busy.discard(ev.key)
            handled.append((instance, ev))

        return handle

    try:
        for seq in range(1, 11):
            async with transaction(sessions) as session:
                await first.publish(session, *(event(f"call-{k}", seq) for k in range(20)))
        async with (
            running(first.consumer("g", ["calls"], handler_of("first"))),
            running(second.consumer("g", ["calls"], handler_of("second"))),
        ):
            async with asyncio.timeout(30):
                while len(handled) < 200:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
    finally:
        await first.close()
        await second.close()
    events = [ev for _, ev in handled]
    assert max(Counter(ev.id for ev in events).values()) == 1 and len(events) == 200
    assert all(seqs == list(range(1, 11)) for seqs in per_key(events).values())
    assert overlaps == []
    assert {instance for instance, _ in handled} == {"first", "second"}


async def test_an_event_delivered_again_after_it_was_handled_is_not_handled_twice(
    sessions: SessionFactory, jetstream: JetStreamEventStream
) -> None:
    """A copy beyond JetStream's duplicate window (here: another Msg-Id) is stopped by the group's
    position stored with the handler's writes."""
    async with transaction(sessions) as session:
        await jetstream.publish(session, event("k", 1), event("k", 2))
    await wait_until_events_deliverable(sessions)
    relay_js = CrashingJetStream(jetstream.connection.js)
    await relay_through(jetstream, relay_js).relay_events()
    collector = Collector()
    async with running(jetstream.consumer("g", ["calls"], collector.handle)):
        await collector.wait_for(2)
        first_copy = await jetstream.connection.js.get_msg(
            jetstream.layout.events_stream, relay_js.acks[0].seq
        )
        bucket = bucket_of("k", jetstream.layout.buckets)
        subject = jetstream.layout.event_subject("calls", bucket)
        assert first_copy.data is not None
        copy = await jetstream.connection.js.publish(
            subject, first_copy.data, headers={"Nats-Msg-Id": "late-copy"}
        )
        durable = jetstream.layout.group_consumer("g", "calls", bucket)
        async with asyncio.timeout(10):  # the copy was delivered and acknowledged ...
            while await acknowledged_up_to(jetstream, durable) < copy.seq:
                await asyncio.sleep(0.05)
    assert await stored_messages(jetstream) == 3
    assert collector.ids == [1, 2]  # ... without calling the handler


def test_the_factory_chooses_the_configured_backend(sessions: SessionFactory, database_url: str) -> None:
    default = create_event_stream(settings_for_tests(database_url), sessions)
    chosen = create_event_stream(
        settings_for_tests(
            database_url, event_backend="jetstream", nats_url="nats://127.0.0.1:1", nats_stream_prefix="x"
        ),
        sessions,
    )
    assert isinstance(default, PostgresEventStream)
    assert isinstance(chosen, JetStreamEventStream)
    assert (chosen.connection.url, chosen.layout.prefix) == ("nats://127.0.0.1:1", "x")
