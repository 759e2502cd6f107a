"""KeyedDispatcher: order per key, parallelism across shards, bounded queues, isolation of handler errors."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from ari_bridge.ari import AriEvent, KeyedDispatcher, UnknownEvent

pytestmark = pytest.mark.timeout(30)


def event(key: str, seq: int, *, age: float = 0.0, event_type: str = "TestEvent") -> UnknownEvent:
    timestamp = datetime.now(UTC) - timedelta(seconds=age)
    return UnknownEvent(type=event_type, timestamp=timestamp, raw={"seq": seq, "channel": {"id": key}})


def seq(item: AriEvent) -> int:
    assert isinstance(item, UnknownEvent)
    return int(item.raw["seq"])


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def keys_on_distinct_shards(dispatcher: KeyedDispatcher, count: int) -> list[str]:
    by_shard: dict[int, str] = {}
    while len(by_shard) < count:
        key = uuid.uuid4().hex
        by_shard.setdefault(dispatcher.shard_of(key), key)
    return list(by_shard.values())


async def test_events_with_the_same_key_are_handled_in_order() -> None:
    handled: dict[str, list[int]] = defaultdict(list)
    running = 0
    most_running = 0

    async def handle(item: AriEvent) -> None:
        nonlocal running, most_running
        running += 1
        most_running = max(most_running, running)
        await asyncio.sleep(random.uniform(0, 0.002))
        assert item.channel_id is not None
        handled[item.channel_id].append(seq(item))
        running -= 1

    dispatcher = KeyedDispatcher(handle, shards=8, name=f"test-{uuid.uuid4().hex[:8]}")
    await dispatcher.start()
    keys = [f"channel-{n}" for n in range(40)]
    for n in range(25):
        for key in random.sample(keys, len(keys)):
            dispatcher.put(key, event(key, n))
        await asyncio.sleep(0)
    await asyncio.wait_for(dispatcher.idle(), 20)
    await dispatcher.stop()
    assert handled == {key: list(range(25)) for key in keys}
    assert most_running > 1  # several shards at work at once
    assert most_running <= 8  # never more than one task per shard


async def test_a_slow_key_does_not_hold_up_other_shards() -> None:
    release = asyncio.Event()
    handled: list[str] = []

    async def handle(item: AriEvent) -> None:
        if item.channel_id == slow:
            await release.wait()
        handled.append(str(item.channel_id))

    dispatcher = KeyedDispatcher(handle, shards=4, name=f"test-{uuid.uuid4().hex[:8]}")
    slow, fast = keys_on_distinct_shards(dispatcher, 2)
    await dispatcher.start()
    dispatcher.put(slow, event(slow, 1))
    dispatcher.put(fast, event(fast, 1))
    dispatcher.put(slow, event(slow, 2))
    async with asyncio.timeout(2):
        while fast not in handled:
            await asyncio.sleep(0.005)
    assert handled == [fast]  # the slow key's events wait, in order, on their own shard
    release.set()
    await dispatcher.idle()
    assert handled == [fast, slow, slow]
    await dispatcher.stop()


async def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    handled: list[int] = []

    async def handle(item: AriEvent) -> None:
        handled.append(seq(item))

    dispatcher = KeyedDispatcher(handle, shards=1, queue_size=3, name=name)
    for n in range(10):  # not started: nothing drains, and put must still return at once
        dispatcher.put("channel", event("channel", n))
    assert dispatcher.pending == 3
    assert sample("dialplane_ari_events_dropped_total", node=name) == 7
    assert sample("dialplane_ari_events_total", node=name, type="other") == 10
    await dispatcher.start()
    await dispatcher.idle()
    assert handled == [0, 1, 2]
    await dispatcher.stop()


async def test_a_failing_handler_does_not_stop_its_shard_and_asks_for_a_reconciliation() -> None:
    handled: list[int] = []
    lost: list[str] = []

    async def handle(item: AriEvent) -> None:
        if seq(item) == 1:
            raise RuntimeError("the database is unreachable")
        handled.append(seq(item))

    dispatcher = KeyedDispatcher(
        handle, shards=1, name=f"test-{uuid.uuid4().hex[:8]}", on_drop=lambda: lost.append("lost")
    )
    await dispatcher.start()
    for n in range(4):
        dispatcher.put("channel", event("channel", n))
    await asyncio.wait_for(dispatcher.idle(), 2)
    assert handled == [0, 2, 3]
    assert lost == ["lost"]  # the status change of event 1 is lost: the node is reconciled soon
    await dispatcher.stop()


async def test_lag_and_late_events_are_measured() -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"

    async def handle(item: AriEvent) -> None:
        pass

    dispatcher = KeyedDispatcher(handle, name=name, late_after=1.0)
    await dispatcher.start()
    dispatcher.put("a", event("a", 0))
    dispatcher.put("b", event("b", 1, age=5.0, event_type="StasisStart"))
    await dispatcher.idle()
    await dispatcher.stop()
    assert sample("dialplane_ari_event_lag_seconds_count", node=name) == 2
    assert sample("dialplane_ari_event_lag_seconds_sum", node=name) >= 5.0
    assert sample("dialplane_ari_events_late_total", node=name) == 1
    assert sample("dialplane_ari_events_total", node=name, type="StasisStart") == 1


async def test_stop_drains_what_is_queued() -> None:
    handled: list[int] = []

    async def handle(item: AriEvent) -> None:
        await asyncio.sleep(0.001)
        handled.append(seq(item))

    dispatcher = KeyedDispatcher(handle, shards=2, name=f"test-{uuid.uuid4().hex[:8]}")
    await dispatcher.start()
    for n in range(20):
        dispatcher.put_event(event("channel", n))
    await dispatcher.stop(drain_seconds=5)
    assert handled == list(range(20))
