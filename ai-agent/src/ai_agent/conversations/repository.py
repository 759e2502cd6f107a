"""All SQL of conversations, their turns and recordings (tables of migration 0008).

The conversation engine writes through these functions in short transactions of its own; the API reads. A
conversation moves ``pending`` → ``active`` → ``ended`` (or straight from ``pending`` to ``ended`` when the
call is never answered); the functions that move it return ``None`` when it is not in a state to move.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

_NO_TIMINGS: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    call_id: uuid.UUID
    profile: str
    to_number: str
    lead: dict[str, Any]
    variables: dict[str, Any]
    language: str | None
    status: str  # pending, active, ended
    answered_by: str | None
    outcome: str | None
    summary: str | None
    callback_at: dt.datetime | None
    meeting_id: str | None
    end_reason: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class TurnRecord:
    call_id: uuid.UUID
    seq: int
    speaker: str  # agent, person
    text: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    interrupted: bool
    tool_calls: list[dict[str, Any]]
    timings: dict[str, float]


@dataclass(frozen=True, slots=True)
class RecordingRecord:
    call_id: uuid.UUID
    content_type: str
    audio: bytes
    duration_seconds: float | None
    created_at: dt.datetime


_CONVERSATION = (
    "call_id, profile, to_number, lead, variables, language, status, answered_by, outcome, summary,"
    " callback_at, meeting_id, end_reason, created_at, started_at, ended_at"
)
_TURN = "call_id, seq, speaker, text, started_at, ended_at, interrupted, tool_calls, timings"


def _conversation(row: Any) -> ConversationRecord:
    return ConversationRecord(**row._mapping)


def _json(query: str, *names: str) -> Any:
    return text(query).bindparams(*(bindparam(name, type_=JSONB) for name in names))


async def create_pending(
    session: AsyncSession,
    *,
    call_id: uuid.UUID,
    profile: str,
    to_number: str,
    lead: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> bool:
    """Record the conversation of a call about to be answered; ``False`` if it exists already (unchanged)."""
    query = _json(
        "INSERT INTO conversations (call_id, profile, to_number, lead, variables)"
        " VALUES (:call_id, :profile, :to_number, :lead, :variables)"
        " ON CONFLICT (call_id) DO NOTHING RETURNING call_id",
        "lead",
        "variables",
    )
    values = {
        "call_id": call_id, "profile": profile, "to_number": to_number,
        "lead": dict(lead), "variables": dict(variables),
    }  # fmt: skip
    return (await session.execute(query, values)).one_or_none() is not None


async def get(session: AsyncSession, call_id: uuid.UUID) -> ConversationRecord | None:
    query = text(f"SELECT {_CONVERSATION} FROM conversations WHERE call_id = :call_id")
    row = (await session.execute(query, {"call_id": call_id})).one_or_none()
    return None if row is None else _conversation(row)


async def start(
    session: AsyncSession,
    call_id: uuid.UUID,
    *,
    answered_by: str | None,
    language: str,
    started_at: dt.datetime,
) -> ConversationRecord | None:
    """``pending`` → ``active`` (the call was answered); ``None`` if it is not pending (or unknown)."""
    query = text(
        "UPDATE conversations SET status = 'active', answered_by = :answered_by, language = :language,"
        " started_at = :started_at WHERE call_id = :call_id AND status = 'pending'"
        f" RETURNING {_CONVERSATION}"
    )
    values = {"call_id": call_id, "answered_by": answered_by, "language": language, "started_at": started_at}
    row = (await session.execute(query, values)).one_or_none()
    return None if row is None else _conversation(row)


async def add_turn(
    session: AsyncSession,
    call_id: uuid.UUID,
    *,
    speaker: str,
    text: str,
    started_at: dt.datetime,
    ended_at: dt.datetime | None,
    interrupted: bool = False,
    tool_calls: Sequence[Mapping[str, Any]] = (),
    timings: Mapping[str, float] = _NO_TIMINGS,
) -> int:
    """Append a turn and return its number (1, 2, …). Numbers are the next free one: safe with one writer
    per call. ``timings`` are stored as given, without values that are not finite numbers."""
    query = _json(
        "INSERT INTO conversation_turns"
        " (call_id, seq, speaker, text, started_at, ended_at, interrupted, tool_calls, timings)"
        " SELECT CAST(:call_id AS uuid), COALESCE(MAX(seq), 0) + 1, CAST(:speaker AS text),"
        " CAST(:text AS text), CAST(:started_at AS timestamptz), CAST(:ended_at AS timestamptz),"
        " CAST(:interrupted AS boolean), CAST(:tool_calls AS jsonb), CAST(:timings AS jsonb)"
        " FROM conversation_turns WHERE call_id = :call_id"
        " RETURNING seq",
        "tool_calls",
        "timings",
    )
    values = {
        "call_id": call_id, "speaker": speaker, "text": text, "started_at": started_at,
        "ended_at": ended_at, "interrupted": interrupted,
        "tool_calls": [dict(call) for call in tool_calls], "timings": _finite(timings),
    }  # fmt: skip
    seq: int = (await session.execute(query, values)).scalar_one()
    return seq


def _finite(timings: Mapping[str, float]) -> dict[str, float]:
    return {
        name: float(value)
        for name, value in timings.items()
        if isinstance(value, int | float) and math.isfinite(value)
    }


async def finish(
    session: AsyncSession,
    call_id: uuid.UUID,
    *,
    outcome: str | None,
    summary: str | None,
    end_reason: str | None,
    callback_at: dt.datetime | None = None,
    meeting_id: str | None = None,
    ended_at: dt.datetime,
) -> ConversationRecord | None:
    """``pending`` or ``active`` → ``ended``; ``None`` if it has ended already (or is unknown)."""
    query = text(
        "UPDATE conversations SET status = 'ended', outcome = :outcome, summary = :summary,"
        " end_reason = :end_reason, callback_at = :callback_at, meeting_id = :meeting_id,"
        " ended_at = :ended_at WHERE call_id = :call_id AND status IN ('pending', 'active')"
        f" RETURNING {_CONVERSATION}"
    )
    values = {
        "call_id": call_id, "outcome": outcome, "summary": summary, "end_reason": end_reason,
        "callback_at": callback_at, "meeting_id": meeting_id, "ended_at": ended_at,
    }  # fmt: skip
    row = (await session.execute(query, values)).one_or_none()
    return None if row is None else _conversation(row)


async def turns(session: AsyncSession, call_id: uuid.UUID) -> list[TurnRecord]:
    """The conversation's turns in the order spoken."""
    query = text(f"SELECT {_TURN} FROM conversation_turns WHERE call_id = :call_id ORDER BY seq")
    rows = (await session.execute(query, {"call_id": call_id})).all()
    return [TurnRecord(**row._mapping) for row in rows]


async def save_recording(
    session: AsyncSession,
    call_id: uuid.UUID,
    audio: bytes,
    content_type: str,
    duration_seconds: float | None,
) -> None:
    """Store the call's recording (replacing an earlier one)."""
    query = text(
        "INSERT INTO conversation_recordings (call_id, content_type, audio, duration_seconds)"
        " VALUES (:call_id, :content_type, :audio, :duration_seconds)"
        " ON CONFLICT (call_id) DO UPDATE SET content_type = excluded.content_type,"
        " audio = excluded.audio, duration_seconds = excluded.duration_seconds,"
        " created_at = clock_timestamp()"
    )
    values = {
        "call_id": call_id, "content_type": content_type, "audio": audio,
        "duration_seconds": duration_seconds,
    }  # fmt: skip
    await session.execute(query, values)


async def get_recording(session: AsyncSession, call_id: uuid.UUID) -> RecordingRecord | None:
    query = text(
        "SELECT call_id, content_type, audio, duration_seconds, created_at"
        " FROM conversation_recordings WHERE call_id = :call_id"
    )
    row = (await session.execute(query, {"call_id": call_id})).one_or_none()
    return None if row is None else RecordingRecord(**row._mapping)


async def active_call_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Calls whose conversation has not ended (``pending`` or ``active``), oldest first: after a restart,
    the conversations this process may have left open."""
    query = text("SELECT call_id FROM conversations WHERE status <> 'ended' ORDER BY created_at, call_id")
    return list((await session.execute(query)).scalars().all())
