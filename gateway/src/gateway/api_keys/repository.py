"""All SQL of the API keys (table ``api_keys``, migration 0003)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LAST_USED_PRECISION = "1 minute"  # last_used_at is written at most this often per key


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    secret_hash: str = field(repr=False)
    scopes: tuple[str, ...]
    rate_limit_per_minute: int
    disabled: bool
    created_by: str | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    rotated_at: dt.datetime | None


_COLUMNS = ", ".join(ApiKey.__dataclass_fields__)


def _api_key(row: Any) -> ApiKey:
    values = dict(row._mapping)
    values["scopes"] = tuple(values["scopes"])
    return ApiKey(**values)


async def _one(session: AsyncSession, query: str, params: dict[str, Any]) -> ApiKey | None:
    row = (await session.execute(text(query), params)).one_or_none()
    return None if row is None else _api_key(row)


async def insert(session: AsyncSession, values: dict[str, Any]) -> ApiKey:
    """``values``: id, name, secret_hash, scopes, rate_limit_per_minute, created_by."""
    query = f"""
        INSERT INTO api_keys (id, name, secret_hash, scopes, rate_limit_per_minute, created_by)
        VALUES (:id, :name, :secret_hash, :scopes, :rate_limit_per_minute, :created_by)
        RETURNING {_COLUMNS}
    """
    inserted = await _one(session, query, values)
    assert inserted is not None
    return inserted


async def get(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await _one(session, f"SELECT {_COLUMNS} FROM api_keys WHERE id = :id", {"id": key_id})


async def list_all(session: AsyncSession) -> list[ApiKey]:
    query = text(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, id")
    return [_api_key(row) for row in (await session.execute(query)).all()]


async def disable(session: AsyncSession, key_id: str) -> ApiKey | None:
    query = f"UPDATE api_keys SET disabled = true WHERE id = :id RETURNING {_COLUMNS}"
    return await _one(session, query, {"id": key_id})


async def replace_secret(session: AsyncSession, key_id: str, secret_hash: str) -> ApiKey | None:
    """A new secret for an enabled key; ``None`` if there is no such key or it is disabled."""
    query = f"""
        UPDATE api_keys SET secret_hash = :secret_hash, rotated_at = clock_timestamp()
        WHERE id = :id AND NOT disabled RETURNING {_COLUMNS}
    """
    return await _one(session, query, {"id": key_id, "secret_hash": secret_hash})


async def mark_used(session: AsyncSession, key_id: str) -> None:
    """Record a use, at most once per :data:`LAST_USED_PRECISION` (not a write on every request)."""
    query = f"""
        UPDATE api_keys SET last_used_at = clock_timestamp()
        WHERE id = :id
          AND (last_used_at IS NULL OR last_used_at < clock_timestamp() - interval '{LAST_USED_PRECISION}')
    """
    await session.execute(text(query), {"id": key_id})
