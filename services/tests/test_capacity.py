"""Capacity reports on the real database: a process's rows are written, refreshed, replaced and deleted as
the dialer's pacing expects; a reporter keeps them fresh and removes them when it stops."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import text

from dialplane.capacity import (
    CapacityReport,
    CapacityReporter,
    delete_reports,
    delete_stale_reports,
    instance_id,
    upsert_reports,
)
from dialplane.db import SessionFactory, transaction


async def rows(sessions: SessionFactory) -> dict[tuple[str, str], dict[str, Any]]:
    query = text("SELECT resource, instance, capacity, in_use, seen_at FROM capacity_reports")
    async with transaction(sessions) as session:
        found = (await session.execute(query)).mappings().all()
    return {(row["resource"], row["instance"]): dict(row) for row in found}


async def test_a_process_writes_refreshes_and_deletes_its_own_rows(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await upsert_reports(session, "other", [CapacityReport("agent", 4, 1)])
        await upsert_reports(session, "me", [CapacityReport("agent", 4, 0), CapacityReport("trunk:a", 30, 2)])
    first = await rows(sessions)
    async with transaction(sessions) as session:
        await upsert_reports(session, "me", [CapacityReport("agent", 4, 3)])  # trunk:a no longer reported
    second = await rows(sessions)
    assert set(second) == {("agent", "other"), ("agent", "me")}
    assert (second["agent", "me"]["capacity"], second["agent", "me"]["in_use"]) == (4, 3)
    assert second["agent", "me"]["seen_at"] > first["agent", "me"]["seen_at"]
    async with transaction(sessions) as session:
        await delete_reports(session, "me")
    assert set(await rows(sessions)) == {("agent", "other")}


async def test_rows_of_processes_that_died_long_ago_are_deleted(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await upsert_reports(session, "dead", [CapacityReport("agent", 4, 4)])
        await upsert_reports(session, "alive", [CapacityReport("agent", 4, 0)])
        await session.execute(
            text("UPDATE capacity_reports SET seen_at = seen_at - interval '2 hours' WHERE instance = 'dead'")
        )
        assert await delete_stale_reports(session) == 1
    assert set(await rows(sessions)) == {("agent", "alive")}


def test_instance_ids_differ_between_process_starts() -> None:
    assert instance_id() != instance_id()


@pytest_asyncio.fixture
async def reporter(sessions: SessionFactory) -> AsyncIterator[tuple[CapacityReporter, list[int]]]:
    in_use = [0]
    reporter = CapacityReporter(
        sessions, lambda: [CapacityReport("agent", 4, in_use[0])], instance="test", interval_seconds=0.3
    )
    task = asyncio.create_task(reporter.run())
    try:
        yield reporter, in_use
    finally:
        reporter.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


async def wait_for_row(sessions: SessionFactory, in_use: int) -> dict[str, Any]:
    async with asyncio.timeout(2):
        while True:
            row = (await rows(sessions)).get(("agent", "test"))
            if row is not None and row["in_use"] == in_use:
                return row
            await asyncio.sleep(0.01)


async def test_a_reporter_refreshes_its_row_every_interval(
    sessions: SessionFactory, reporter: tuple[CapacityReporter, list[int]]
) -> None:
    first = await wait_for_row(sessions, 0)
    await asyncio.sleep(0.7)
    again = await wait_for_row(sessions, 0)
    assert again["seen_at"] - first["seen_at"] >= dt.timedelta(seconds=0.5)


async def test_a_reporter_writes_at_once_when_asked_and_deletes_its_row_when_stopped(
    sessions: SessionFactory,
) -> None:
    in_use = [0]
    reporter = CapacityReporter(
        sessions, lambda: [CapacityReport("agent", 4, in_use[0])], instance="test", interval_seconds=60
    )
    task = asyncio.create_task(reporter.run())
    await wait_for_row(sessions, 0)
    in_use[0] = 2
    reporter.refresh_soon()
    await asyncio.wait_for(wait_for_row(sessions, 2), 0.5)  # not a minute later
    reporter.stop()
    await asyncio.wait_for(task, 5)
    assert await rows(sessions) == {}
