"""Running event consumers and command workers inside a service's ``lifespan()``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import structlog

from dialplane.events import Runner

log = structlog.get_logger(__name__)


@asynccontextmanager
async def running(runners: Sequence[Runner], *, stop_timeout: float = 10.0) -> AsyncIterator[None]:
    """Run ``runners`` in the background; on exit ask each to stop and wait for it (then cancel)."""
    tasks = [asyncio.create_task(r.run(), name=r.name) for r in runners]
    for task in tasks:
        task.add_done_callback(_report_crash)
    try:
        yield
    finally:
        for runner in runners:
            runner.stop()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=stop_timeout)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("runner_crashed", runner=task.get_name(), error=repr(task.exception()))
