"""The migration tree upgrades an empty database to the newest schema and downgrades it back to empty."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from dialplane import migrate
from dialplane.events.postgres import asyncpg_dsn
from dialplane.testing.database import create_database, drop_database


async def table_names(url: str) -> set[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {row["tablename"] for row in rows}


async def test_upgrade_from_empty_then_downgrade_back_to_empty() -> None:
    name = f"dialplane_migrations_{uuid.uuid4().hex[:8]}"
    url = await create_database(name)
    try:
        await migrate.upgrade_async(url)
        upgraded = await table_names(url)
        assert {"events", "event_consumer_groups", "commands", "dead_commands", "bridge_calls"} <= upgraded
        await migrate.upgrade_async(url)  # a second upgrade is a no-op
        await asyncio.to_thread(migrate.downgrade, url, "base")
        assert await table_names(url) <= {"alembic_version"}
        await migrate.upgrade_async(url)  # and the tree applies again after a full downgrade
        assert await table_names(url) == upgraded
    finally:
        await drop_database(name)
