"""All SQL of the gateway's users (table ``users``, migration 0003). Names compare case-insensitively."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    password_hash: str = field(repr=False)
    scopes: tuple[str, ...]
    disabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    password_changed_at: dt.datetime


_COLUMNS = ", ".join(User.__dataclass_fields__)


def _user(row: Any) -> User:
    values = dict(row._mapping)
    values["scopes"] = tuple(values["scopes"])
    return User(**values)


async def insert(session: AsyncSession, name: str, password_hash: str, scopes: list[str]) -> User | None:
    """A new user; ``None`` if one with the same name (in any case) exists already."""
    query = text(
        f"""
        INSERT INTO users (name, password_hash, scopes) VALUES (:name, :password_hash, :scopes)
        ON CONFLICT ((lower(name))) DO NOTHING
        RETURNING {_COLUMNS}
        """
    )
    params = {"name": name, "password_hash": password_hash, "scopes": scopes}
    row = (await session.execute(query, params)).one_or_none()
    return None if row is None else _user(row)


async def get_by_name(session: AsyncSession, name: str) -> User | None:
    query = text(f"SELECT {_COLUMNS} FROM users WHERE lower(name) = lower(:name)")
    row = (await session.execute(query, {"name": name})).one_or_none()
    return None if row is None else _user(row)


async def list_all(session: AsyncSession) -> list[User]:
    query = text(f"SELECT {_COLUMNS} FROM users ORDER BY lower(name)")
    return [_user(row) for row in (await session.execute(query)).all()]


async def set_disabled(session: AsyncSession, name: str, disabled: bool) -> User | None:
    query = text(
        f"""
        UPDATE users SET disabled = :disabled, updated_at = clock_timestamp()
        WHERE lower(name) = lower(:name)
        RETURNING {_COLUMNS}
        """
    )
    row = (await session.execute(query, {"name": name, "disabled": disabled})).one_or_none()
    return None if row is None else _user(row)


async def set_password_hash(session: AsyncSession, name: str, password_hash: str) -> User | None:
    """Store a new hash; ``password_changed_at`` moves, which revokes the tokens issued before."""
    query = text(
        f"""
        UPDATE users SET password_hash = :password_hash, password_changed_at = clock_timestamp(),
                         updated_at = clock_timestamp()
        WHERE lower(name) = lower(:name)
        RETURNING {_COLUMNS}
        """
    )
    row = (await session.execute(query, {"name": name, "password_hash": password_hash})).one_or_none()
    return None if row is None else _user(row)
