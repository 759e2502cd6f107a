"""The lead import worker (being written)."""

from __future__ import annotations

import asyncio

from dialer.settings import Settings
from dialplane.db import SessionFactory


class ImportWorker:
    name = "lead-imports"

    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> None:
        await self._stopped.wait()
