"""Capacity reports: what each process can take on and how much of it is in use, for the dialer's pacing.

Table ``capacity_reports`` (migration 0010), one row per ``(resource, instance)``:

* ``resource``: ``agent`` (an ai-agent process; capacity = conversations it holds at once) or
  ``trunk:<name>`` (a bridge's trunk; capacity = its ``max_concurrent`` calls);
* ``instance``: the reporting process, unique per process start (:func:`instance_id`);
* ``capacity``, ``in_use`` and ``seen_at`` (the database's ``clock_timestamp()`` at the last write).

A :class:`CapacityReporter` writes its process's rows every ``interval_seconds`` (2 s), and at once after
:meth:`CapacityReporter.refresh_soon`; it deletes them when stopped (a clean shutdown). A process that dies
leaves its rows behind with a ``seen_at`` that stops moving, so a reader must count only rows seen recently
(the dialer: the last 10 s); rows older than an hour are deleted by the next reporter that starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.db import SessionFactory, transaction

log = structlog.get_logger(__name__)

AGENT_RESOURCE = "agent"
TRUNK_RESOURCE_PREFIX = "trunk:"
STALE_AFTER_SECONDS = 3600  # rows of processes that died are deleted after this long


@dataclass(frozen=True, slots=True)
class CapacityReport:
    resource: str
    capacity: int
    in_use: int


def trunk_resource(name: str) -> str:
    return f"{TRUNK_RESOURCE_PREFIX}{name}"


def instance_id() -> str:
    """This process: host name, process id and a random part (a restarted process reuses no row)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


async def upsert_reports(session: AsyncSession, instance: str, reports: Sequence[CapacityReport]) -> None:
    """Write ``instance``'s rows (``seen_at`` = now) and delete its rows of resources it no longer reports."""
    if reports:
        await session.execute(
            text(
                """
                INSERT INTO capacity_reports (resource, instance, capacity, in_use, seen_at)
                VALUES (:resource, :instance, :capacity, :in_use, clock_timestamp())
                ON CONFLICT (resource, instance) DO UPDATE
                SET capacity = EXCLUDED.capacity, in_use = EXCLUDED.in_use, seen_at = EXCLUDED.seen_at
                """
            ),
            [
                {"resource": r.resource, "instance": instance, "capacity": r.capacity, "in_use": r.in_use}
                for r in reports
            ],
        )
    await session.execute(
        text("DELETE FROM capacity_reports WHERE instance = :instance AND resource <> ALL(:resources)"),
        {"instance": instance, "resources": [r.resource for r in reports]},
    )


async def delete_reports(session: AsyncSession, instance: str) -> None:
    await session.execute(
        text("DELETE FROM capacity_reports WHERE instance = :instance"), {"instance": instance}
    )


async def delete_stale_reports(session: AsyncSession, older_than_seconds: float = STALE_AFTER_SECONDS) -> int:
    result = await session.execute(
        text("DELETE FROM capacity_reports WHERE seen_at < clock_timestamp() - make_interval(secs => :age)"),
        {"age": older_than_seconds},
    )
    return int(getattr(result, "rowcount", 0) or 0)


class CapacityReporter:
    """A runner (see :func:`dialplane.runners.running`) keeping this process's capacity rows fresh."""

    name = "capacity-reporter"

    def __init__(
        self,
        sessions: SessionFactory,
        read: Callable[[], Sequence[CapacityReport]],
        *,
        instance: str | None = None,
        interval_seconds: float = 2.0,
    ) -> None:
        self.instance = instance or instance_id()
        self._sessions, self._read, self._interval = sessions, read, interval_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    def refresh_soon(self) -> None:
        """Write the rows now rather than at the next interval (cheap: many calls make one write)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        await self._write(delete_stale_reports)
        try:
            while not self._stopping:
                self._wake.clear()
                await self._write(lambda session: upsert_reports(session, self.instance, self._read()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._interval)
        finally:
            await self._write(lambda session: delete_reports(session, self.instance))
            log.info("capacity_reports_removed", instance=self.instance)

    async def _write(self, step: Callable[[AsyncSession], Awaitable[object]]) -> None:
        """Run one write in its own transaction; a failure is logged and the next interval tries again."""
        try:
            async with transaction(self._sessions) as session:
                await step(session)
        except Exception as exc:  # a lost database must not stop the reports for good
            log.warning("capacity_report_failed", instance=self.instance, error=str(exc))
