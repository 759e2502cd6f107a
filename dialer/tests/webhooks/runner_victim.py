"""A webhook runner in a process of its own, to be SIGKILLed in the middle of a delivery.

Usage: python runner_victim.py DATABASE_URL TIMEOUT_SECONDS
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace

from dialer.webhooks import WebhookRunner, create_client
from dialer.webhooks.testing import FAST_CONFIG
from dialplane.db import create_engine, create_session_factory
from dialplane.testing.database import settings_for_tests


async def main(database_url: str, timeout_seconds: str) -> None:
    engine = create_engine(settings_for_tests(database_url))
    config = replace(FAST_CONFIG, timeout_seconds=float(timeout_seconds))
    async with create_client() as client:
        await WebhookRunner(create_session_factory(engine), client, config).run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
