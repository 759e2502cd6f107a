"""SQL of node leases (table ``node_leases``) and bridge membership (``bridge_members``), migration 0011.

Times are the database's (``clock_timestamp()``), so bridges on different hosts agree on expiry."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def heartbeat(session: AsyncSession, instance: str, ttl_seconds: float) -> int:
    """Record ``instance`` as alive for ``ttl_seconds``; returns how many bridges are alive now."""
    await session.execute(
        text(
            """
            INSERT INTO bridge_members (instance, expires_at)
            VALUES (:instance, clock_timestamp() + make_interval(secs => :ttl))
            ON CONFLICT (instance) DO UPDATE SET expires_at = EXCLUDED.expires_at
            """
        ),
        {"instance": instance, "ttl": ttl_seconds},
    )
    await session.execute(
        text("DELETE FROM bridge_members WHERE expires_at < clock_timestamp() - interval '1 hour'")
    )
    alive = await session.execute(
        text("SELECT count(*) FROM bridge_members WHERE expires_at > clock_timestamp()")
    )
    return int(alive.scalar_one())


async def claim(session: AsyncSession, nodes: Sequence[str], instance: str, ttl_seconds: float) -> list[str]:
    """Take or renew the leases of ``nodes`` that are free, expired or already ours; returns those now
    ours (one statement per node: the row lock decides between two bridges claiming at once)."""
    held = []
    for node in nodes:
        row = await session.execute(
            text(
                """
                INSERT INTO node_leases AS lease (node, owner, expires_at)
                VALUES (:node, :owner, clock_timestamp() + make_interval(secs => :ttl))
                ON CONFLICT (node) DO UPDATE
                SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at,
                    acquired_at = CASE WHEN lease.owner = EXCLUDED.owner THEN lease.acquired_at
                                       ELSE clock_timestamp() END
                WHERE lease.owner = EXCLUDED.owner OR lease.expires_at < clock_timestamp()
                RETURNING node
                """
            ),
            {"node": node, "owner": instance, "ttl": ttl_seconds},
        )
        if row.scalar_one_or_none() is not None:
            held.append(node)
    return held


async def owners(session: AsyncSession) -> dict[str, str]:
    """Node -> the bridge whose lease on it has not expired."""
    rows = await session.execute(
        text("SELECT node, owner FROM node_leases WHERE expires_at > clock_timestamp()")
    )
    return {str(node): str(owner) for node, owner in rows.all()}


async def release(session: AsyncSession, nodes: Sequence[str], instance: str) -> None:
    """Give up our leases of ``nodes`` (after we stopped driving them)."""
    await session.execute(
        text("DELETE FROM node_leases WHERE node = ANY(:nodes) AND owner = :owner"),
        {"nodes": list(nodes), "owner": instance},
    )


async def leave(session: AsyncSession, instance: str) -> None:
    """A clean shutdown: our leases and membership go at once, so others take over without waiting."""
    await session.execute(text("DELETE FROM node_leases WHERE owner = :owner"), {"owner": instance})
    await session.execute(text("DELETE FROM bridge_members WHERE instance = :owner"), {"owner": instance})
