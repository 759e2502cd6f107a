"""A process that takes work from the event stream and hangs before acknowledging it, to be SIGKILLed.

Usage: python crash_victim.py DATABASE_URL consumer|worker NAME
Prints ``received <id>`` (flushed) for the first event or command, then blocks forever inside the handler.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from dialplane.db import create_engine, create_session_factory
from dialplane.events import PostgresEventStream
from dialplane.testing.database import settings_for_tests


async def main(database_url: str, kind: str, name: str) -> None:
    engine = create_engine(settings_for_tests(database_url))
    stream = PostgresEventStream(create_session_factory(engine), database_url, poll_interval=0.1)

    async def hang(_session: Any, item: Any) -> None:
        print(f"received {item.id}", flush=True)
        await asyncio.Event().wait()

    runner = (
        stream.consumer(name, ["calls"], hang)
        if kind == "consumer"
        else stream.worker(name, hang, lease_seconds=1.0)
    )
    await runner.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
