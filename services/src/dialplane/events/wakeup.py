"""Wake-ups by LISTEN/NOTIFY, with polling as the safety net.

Publishing transactions ``NOTIFY`` a channel (delivered only when they commit). One listening connection per
process turns notifications into :class:`Signal` wake-ups. If that connection is lost, runners still poll
every ``poll_interval`` seconds while it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger(__name__)

EVENTS_CHANNEL = "dialplane_events"
COMMANDS_CHANNEL = "dialplane_commands"


class Signal:
    """A wake-up flag: ``wait`` returns early when ``set`` was called since the last wait."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, max_wait: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), max_wait)
        woken = self._event.is_set()
        self._event.clear()
        return woken


class Listener:
    """Keeps a LISTEN connection open and wakes the signals registered for a channel and name."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._signals: dict[tuple[str, str], set[Signal]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.connected = asyncio.Event()

    def register(self, channel: str, name: str, signal: Signal) -> None:
        self._signals[(channel, name)].add(signal)

    def unregister(self, channel: str, name: str, signal: Signal) -> None:
        self._signals[(channel, name)].discard(signal)

    @contextlib.contextmanager
    def registered(self, channel: str, names: Sequence[str], signal: Signal) -> Iterator[None]:
        """``signal`` is woken by notifications of ``channel`` for any of ``names`` inside the block."""
        for name in names:
            self.register(channel, name, signal)
        try:
            yield
        finally:
            for name in names:
                self.unregister(channel, name, signal)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-stream-listener")

    async def close(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _notified(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        for signal in self._signals.get((channel, payload), ()):
            signal.set()

    def _wake_all(self) -> None:
        for signals in self._signals.values():
            for signal in signals:
                signal.set()

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await self._listen_until_lost()
                delay = 0.5
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("event_listener_disconnected", error=str(exc) or type(exc).__name__)
            self.connected.clear()
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 10.0)

    async def _listen_until_lost(self) -> None:
        conn = await asyncpg.connect(self._dsn, timeout=5)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _c: lost.set())
        try:
            for channel in (EVENTS_CHANNEL, COMMANDS_CHANNEL):
                await conn.add_listener(channel, self._notified)
            self.connected.set()
            self._wake_all()  # anything published while we were not listening
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), 15)
                if not lost.is_set():
                    await conn.execute("SELECT 1")  # liveness: raises if the server went away
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)
