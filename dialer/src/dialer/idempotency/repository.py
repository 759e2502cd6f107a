"""All SQL of idempotency keys (table ``idempotency_keys``, migration 0004)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import idempotency_keys as keys


@dataclass(frozen=True, slots=True)
class StoredKey:
    request_hash: str
    status_code: int | None
    response: dict[str, Any] | None


async def claim(session: AsyncSession, principal_id: str, key: str, request_hash: str) -> bool:
    """Record the key for this request; False if it exists. A concurrent claim of the same key waits here
    until the first transaction ends (primary key), then finds the key (or claims it if that rolled back)."""
    query = (
        insert(keys)
        .values(principal_id=principal_id, key=key, request_hash=request_hash)
        .on_conflict_do_nothing(index_elements=[keys.c.principal_id, keys.c.key])
        .returning(keys.c.key)
    )
    return (await session.execute(query)).first() is not None


async def get(session: AsyncSession, principal_id: str, key: str) -> StoredKey | None:
    query = select(keys.c.request_hash, keys.c.status_code, keys.c.response).where(
        keys.c.principal_id == principal_id, keys.c.key == key
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else StoredKey(row.request_hash, row.status_code, row.response)


async def store_response(
    session: AsyncSession,
    principal_id: str,
    key: str,
    *,
    status_code: int,
    response: dict[str, Any],
    call_id: uuid.UUID | None,
) -> None:
    query = (
        update(keys)
        .where(keys.c.principal_id == principal_id, keys.c.key == key)
        .values(status_code=status_code, response=response, call_id=call_id)
    )
    await session.execute(query)
