"""Node leases on the real PostgreSQL: bridges share the nodes fairly, a node is never driven by two bridges
at once, a bridge that dies leaves its nodes to the others within a few seconds, and a bridge that cannot
renew its leases lets go of its nodes before anyone else may take them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ari_bridge.leases.keeper import NodeLeases
from dialplane.db import SessionFactory

NODES = ["pbx1", "pbx2", "pbx3"]
TTL, RENEW = 2.0, 0.4


@dataclass
class FakeBridge:
    """What a bridge would drive, as its lease keeper tells it."""

    name: str
    driving: set[str] = field(default_factory=set)

    async def drive(self, node: str) -> None:
        self.driving.add(node)

    async def release(self, node: str) -> None:
        self.driving.discard(node)


@asynccontextmanager
async def keeper(sessions: Any, bridge: FakeBridge) -> AsyncIterator[NodeLeases]:
    leases = NodeLeases(
        sessions,
        NODES,
        bridge.name,
        drive=bridge.drive,
        release=bridge.release,
        ttl_seconds=TTL,
        renew_seconds=RENEW,
    )
    task = asyncio.create_task(leases.run())
    try:
        yield leases
    finally:
        leases.stop()
        await task


class Overlaps:
    """Samples every 20 ms whether any node is driven by two bridges."""

    def __init__(self, *bridges: FakeBridge) -> None:
        self.bridges = bridges
        self.seen: list[str] = []

    async def watch(self) -> None:
        while True:
            for node in NODES:
                drivers = [b.name for b in self.bridges if node in b.driving]
                if len(drivers) > 1:
                    self.seen.append(f"{node}: {drivers}")
            await asyncio.sleep(0.02)


async def eventually(condition: Callable[[], bool], within: float) -> float:
    """Seconds until ``condition`` held (fails after ``within``)."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.02)
    return loop.time() - began


@asynccontextmanager
async def watching(*bridges: FakeBridge) -> AsyncIterator[Overlaps]:
    overlaps = Overlaps(*bridges)
    task = asyncio.create_task(overlaps.watch())
    try:
        yield overlaps
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def all_driven_once(*bridges: FakeBridge) -> bool:
    driven = [node for bridge in bridges for node in bridge.driving]
    return sorted(driven) == sorted(NODES)


async def test_bridges_share_the_nodes_and_take_over_from_one_that_dies(sessions: SessionFactory) -> None:
    a, b = FakeBridge("bridge-a"), FakeBridge("bridge-b")
    async with watching(a, b) as overlaps, keeper(sessions, a):
        await eventually(lambda: a.driving == set(NODES), within=2)  # alone, it drives every node
        b_keeper = NodeLeases(
            sessions, NODES, b.name, drive=b.drive, release=b.release, ttl_seconds=TTL, renew_seconds=RENEW
        )
        b_task = asyncio.create_task(b_keeper.run())
        # the fair share is 2 of 3: a hands one back and b takes it
        await eventually(lambda: len(a.driving) == 2 and len(b.driving) == 1, within=3 * RENEW + 2)
        assert all_driven_once(a, b)
        b_task.cancel()  # b dies: no clean release, its lease must expire
        with contextlib.suppress(asyncio.CancelledError):
            await b_task
        orphan = set(b.driving)
        b.driving.clear()  # what a dead process drives
        taken_after = await eventually(lambda: a.driving == set(NODES), within=TTL + 2 * RENEW + 2)
        assert orphan <= a.driving
        assert taken_after <= TTL + 2 * RENEW + 0.5
    assert overlaps.seen == []


async def test_a_clean_stop_hands_the_nodes_over_at_once(sessions: SessionFactory) -> None:
    a, b = FakeBridge("bridge-a"), FakeBridge("bridge-b")
    async with watching(a, b) as overlaps, keeper(sessions, a):
        async with keeper(sessions, b):
            await eventually(lambda: all_driven_once(a, b) and bool(b.driving), within=3 * RENEW + 2)
        assert b.driving == set()
        taken_after = await eventually(lambda: a.driving == set(NODES), within=2 * RENEW + 1)
        assert taken_after < TTL  # the leases were deleted, not left to expire
    assert overlaps.seen == []


class FailingSessions:
    """A session factory whose transactions fail while ``failing`` is set (the database is unreachable)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.failing = False

    def __call__(self) -> Any:
        if self.failing:
            raise ConnectionRefusedError("database unreachable (test)")
        return self.sessions()


async def test_a_bridge_that_cannot_renew_lets_go_before_another_may_take_over(
    sessions: SessionFactory,
) -> None:
    a, b = FakeBridge("bridge-a"), FakeBridge("bridge-b")
    cut_off = FailingSessions(sessions)
    async with watching(a, b) as overlaps, keeper(cut_off, a):
        await eventually(lambda: a.driving == set(NODES), within=2)
        async with keeper(sessions, b):
            await eventually(lambda: len(b.driving) == 1, within=3 * RENEW + 2)
            cut_off.failing = True
            let_go_after = await eventually(lambda: a.driving == set(), within=TTL + 1)
            assert let_go_after <= TTL
            await eventually(lambda: b.driving == set(NODES), within=TTL + 2 * RENEW + 2)
            cut_off.failing = False
            # back: the fair share again
            await eventually(lambda: len(a.driving) == 1 and len(b.driving) == 2, within=TTL + 4 * RENEW + 2)
    assert overlaps.seen == []
