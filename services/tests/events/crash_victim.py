"""A process that takes work from the event stream and hangs before acknowledging it, to be SIGKILLed.

Usage: python crash_victim.py DATABASE_URL consumer|worker NAME [NATS_URL PREFIX]
With NATS_URL and PREFIX it uses the JetStream backend (those streams), else the PostgreSQL one.
Prints ``received <id>`` (flushed) for the first event or command, then blocks forever inside the handler.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from dialplane.db import create_engine, create_session_factory
from dialplane.events import EventStream, PostgresEventStream
from dialplane.events.jetstream import JetStreamEventStream
from dialplane.testing.database import settings_for_tests


async def main(database_url: str, kind: str, name: str, *jetstream: str) -> None:
    engine = create_engine(settings_for_tests(database_url))
    sessions = create_session_factory(engine)
    stream: EventStream
    if jetstream:
        nats_url, prefix = jetstream
        stream = JetStreamEventStream(
            sessions, database_url, nats_url=nats_url, prefix=prefix, relay=False, fetch_timeout=0.5
        )
    else:
        stream = PostgresEventStream(sessions, database_url, poll_interval=0.1)
    await stream.start()

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
    asyncio.run(main(*sys.argv[1:]))
