"""All SQL of agent profiles and agent settings (tables ``agent_profiles`` and ``agent_settings``, 0008)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    name: str
    description: str
    system_prompt: str | None
    voice: str | None
    language: str | None
    tools: list[str]
    calendar: str
    voicemail_message: str | None
    transfer_destination: str | None
    agent_name: str
    company_name: str
    meeting_title: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SettingRecord:
    key: str
    value: str
    updated_at: dt.datetime


_COLUMNS = ", ".join(f.name for f in fields(ProfileRecord))
EDITABLE = frozenset(f.name for f in fields(ProfileRecord)) - {"name", "created_at", "updated_at"}
"""The columns a profile's owner sets; every other name given to a write is refused (ValueError)."""


def _profile(row: Any) -> ProfileRecord:
    return ProfileRecord(**row._mapping)


def _checked(values: Mapping[str, Any]) -> list[str]:
    unknown = set(values) - EDITABLE
    if unknown:
        raise ValueError(f"not columns of a profile: {sorted(unknown)}")
    return sorted(values)


async def list_all(session: AsyncSession) -> list[ProfileRecord]:
    """Every profile, by name."""
    rows = (await session.execute(text(f"SELECT {_COLUMNS} FROM agent_profiles ORDER BY name"))).all()
    return [_profile(row) for row in rows]


async def get(session: AsyncSession, name: str) -> ProfileRecord | None:
    query = text(f"SELECT {_COLUMNS} FROM agent_profiles WHERE name = :name")
    row = (await session.execute(query, {"name": name})).one_or_none()
    return None if row is None else _profile(row)


async def insert(session: AsyncSession, name: str, values: Mapping[str, Any]) -> ProfileRecord | None:
    """Insert a profile; ``None`` if one of that name exists (it is left unchanged)."""
    columns = _checked(values)
    query = text(
        f"INSERT INTO agent_profiles (name, {', '.join(columns)})"
        f" VALUES (:name, {', '.join(':' + column for column in columns)})"
        f" ON CONFLICT (name) DO NOTHING RETURNING {_COLUMNS}"
    )
    row = (await session.execute(query, {**values, "name": name})).one_or_none()
    return None if row is None else _profile(row)


async def update(session: AsyncSession, name: str, changes: Mapping[str, Any]) -> ProfileRecord | None:
    """Set the given columns (and ``updated_at``); ``None`` if there is no such profile."""
    columns = _checked(changes)
    assignments = "".join(f"{column} = :{column}, " for column in columns)
    query = text(
        f"UPDATE agent_profiles SET {assignments}updated_at = clock_timestamp()"
        f" WHERE name = :name RETURNING {_COLUMNS}"
    )
    row = (await session.execute(query, {**changes, "name": name})).one_or_none()
    return None if row is None else _profile(row)


async def delete(session: AsyncSession, name: str) -> bool:
    """Delete a profile; ``False`` if there was none."""
    query = text("DELETE FROM agent_profiles WHERE name = :name RETURNING name")
    return (await session.execute(query, {"name": name})).one_or_none() is not None


async def get_setting(session: AsyncSession, key: str) -> SettingRecord | None:
    query = text("SELECT key, value, updated_at FROM agent_settings WHERE key = :key")
    row = (await session.execute(query, {"key": key})).one_or_none()
    return None if row is None else SettingRecord(**row._mapping)


async def set_setting(session: AsyncSession, key: str, value: str) -> SettingRecord:
    query = text(
        "INSERT INTO agent_settings (key, value) VALUES (:key, :value)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = clock_timestamp()"
        " RETURNING key, value, updated_at"
    )
    row = (await session.execute(query, {"key": key, "value": value})).one()
    return SettingRecord(**row._mapping)


async def delete_setting(session: AsyncSession, key: str) -> bool:
    query = text("DELETE FROM agent_settings WHERE key = :key RETURNING key")
    return (await session.execute(query, {"key": key})).one_or_none() is not None
