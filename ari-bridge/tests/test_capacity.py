"""Capacity: trunk concurrency and calls-per-second limits, node choice, waiting and release."""

from __future__ import annotations

import asyncio
import time

import pytest

from ari_bridge.capacity import Capacity, NoSuchTrunkError
from ari_bridge.settings import NodeConfig, TrunkConfig
from dialplane.capacity import CapacityReport


def capacity(
    *, max_concurrent: int = 10, max_cps: float = 1000.0, connected: set[str] | None = None
) -> Capacity:
    nodes = [NodeConfig(name="a", max_channels=100), NodeConfig(name="b", max_channels=100)]
    trunks = [
        TrunkConfig(name="t", dial_string="Local/{number}@x", max_concurrent=max_concurrent, max_cps=max_cps)
    ]
    up = {"a", "b"} if connected is None else connected
    return Capacity(nodes, trunks, is_connected=lambda name: name in up)


async def test_a_trunk_never_carries_more_calls_than_its_limit() -> None:
    limits = capacity(max_concurrent=3)
    taken = [await limits.acquire("t") for _ in range(3)]
    fourth = asyncio.create_task(limits.acquire("t"))
    await asyncio.sleep(0.05)
    assert not fourth.done()
    await limits.release(taken[0], "t")
    assert await asyncio.wait_for(fourth, 2) in {"a", "b"}


async def test_calls_per_second_are_spaced() -> None:
    limits = capacity(max_concurrent=100, max_cps=20)
    started = time.monotonic()
    for _ in range(11):
        await limits.acquire("t")
    elapsed = time.monotonic() - started
    assert 0.45 <= elapsed <= 0.6  # 10 intervals of 50 ms after the first call


async def test_new_calls_go_to_the_least_loaded_connected_node() -> None:
    limits = capacity(connected={"a", "b"})
    chosen = [await limits.acquire("t") for _ in range(4)]
    assert sorted(chosen) == ["a", "a", "b", "b"]
    only_b = capacity(connected={"b"})
    assert {await only_b.acquire("t") for _ in range(3)} == {"b"}


async def test_a_call_waits_while_no_node_is_connected() -> None:
    up: set[str] = set()
    limits = Capacity(
        [NodeConfig(name="a")],
        [TrunkConfig(name="t", dial_string="Local/{number}@x")],
        is_connected=lambda name: name in up,
    )
    waiting = asyncio.create_task(limits.acquire("t"))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    up.add("a")
    await limits.nodes_changed()
    assert await asyncio.wait_for(waiting, 2) == "a"


async def test_the_calls_of_a_node_taken_over_count_against_the_limits_until_it_is_handed_on() -> None:
    limits = capacity(max_concurrent=2)
    limits.adopt("a", {("a", "t"): 2, ("b", "t"): 5})  # b is another bridge's
    blocked = asyncio.create_task(limits.acquire("t"))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    assert limits.snapshot()["a"]["active"] == 2 and limits.snapshot()["b"]["active"] == 0
    limits.forget("a")
    assert await asyncio.wait_for(blocked, 2) in {"a", "b"}


async def test_a_bridge_driving_some_nodes_gets_their_share_of_each_trunk() -> None:
    driven = {"a"}
    limits = Capacity(
        [NodeConfig(name="a", max_channels=100), NodeConfig(name="b", max_channels=300)],
        [TrunkConfig(name="t", dial_string="Local/{number}@x", max_concurrent=10, max_cps=1e6)],
        is_connected=lambda name: name in driven,
        is_driven=lambda name: name in driven,
    )
    taken = [limits.try_acquire("t") for _ in range(3)]
    assert taken[:2] == [("a", 0.0), ("a", 0.0)] and taken[2] is None  # a quarter of 10, rounded down
    assert limits.reports() == [CapacityReport("trunk:t", capacity=2, in_use=2)]
    driven.clear()
    assert limits.reports() == [CapacityReport("trunk:t", capacity=0, in_use=2)]


async def test_an_unknown_trunk_is_refused() -> None:
    with pytest.raises(NoSuchTrunkError):
        await capacity().acquire("nope")


def node_of(taken: tuple[str, float] | None) -> str | None:
    return None if taken is None else taken[0]


async def test_try_acquire_takes_a_free_slot_now_and_never_one_over_the_limits() -> None:
    limits = capacity(max_concurrent=2, max_cps=5)
    first = node_of(limits.try_acquire("t"))
    assert first in {"a", "b"}
    assert limits.try_acquire("t") is None  # the next start is 0.2 s away (5 per second)
    await asyncio.sleep(0.21)
    assert node_of(limits.try_acquire("t")) in {"a", "b"}
    await asyncio.sleep(0.21)
    assert limits.try_acquire("t") is None  # both slots taken
    await limits.release(first, "t")
    assert node_of(limits.try_acquire("t")) in {"a", "b"}
    assert capacity(connected=set()).try_acquire("t") is None  # no node connected


async def test_try_acquire_within_a_time_takes_the_next_turns_and_says_when_each_comes() -> None:
    now = [100.0]
    limits = Capacity(
        [NodeConfig(name="a", max_channels=100)],
        [TrunkConfig(name="t", dial_string="Local/{number}@x", max_concurrent=10, max_cps=4)],
        is_connected=lambda _name: True,
        clock=lambda: now[0],
    )
    turns = [limits.try_acquire("t", within=0.6) for _ in range(4)]
    assert turns == [("a", 0.0), ("a", 0.25), ("a", 0.5), None]  # 0.75 s away: over the 0.6 s
    now[0] += 0.2
    assert limits.try_acquire("t", within=0.6) == ("a", pytest.approx(0.55))
    assert limits.reports() == [CapacityReport("trunk:t", capacity=10, in_use=4)]


async def test_each_trunk_reports_its_limit_and_the_calls_it_carries() -> None:
    limits = capacity(max_concurrent=3)
    node = await limits.acquire("t")
    await limits.acquire("t")
    await limits.release(node, "t")
    assert limits.reports() == [CapacityReport("trunk:t", capacity=3, in_use=1)]
