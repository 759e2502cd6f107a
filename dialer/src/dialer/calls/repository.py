"""All SQL of calls and their timelines (tables ``calls`` and ``call_events``, migration 0004)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import call_events, calls
from dialplane.calls import ACTIVE, CallStatus


@dataclass(frozen=True, slots=True)
class CallRecord:
    id: uuid.UUID
    created_by: str
    to_number: str
    from_number: str | None
    mode: str
    agent: dict[str, Any] | None
    ivr: dict[str, Any] | None
    status: CallStatus
    ring_timeout_seconds: int
    max_duration_seconds: int | None
    machine_detection: bool
    status_callback: str | None
    status_callback_events: list[str]
    metadata: dict[str, Any]
    attempt_number: int
    refused_by: str | None
    node: str | None
    trunk: str | None
    answered_by: str | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    sip_code: int | None
    failure_reason: str | None
    duration_seconds: float | None
    outcome: str | None
    summary: str | None
    transcript_url: str | None
    campaign_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    abandoned: bool
    agent_audio_delay_seconds: float | None
    created_at: dt.datetime
    dialed_at: dt.datetime | None
    ringing_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_completed(self) -> bool:
        """The call has ended, whatever the outcome."""
        return self.status.is_terminal

    @property
    def duration(self) -> float | None:
        """Seconds from answer to end: the bridge's figure, else from our timestamps."""
        if self.duration_seconds is not None:
            return self.duration_seconds
        if self.answered_at is None or self.ended_at is None:
            return None
        return round((self.ended_at - self.answered_at).total_seconds(), 3)

    def wants_status_callback(self, status: CallStatus | str) -> bool:
        """Whether the call's ``status_callback`` should hear about ``status``."""
        return self.status_callback is not None and str(status) in self.status_callback_events


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    status: CallStatus
    at: dt.datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallFilter:
    statuses: Sequence[CallStatus] = ()
    to_number: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    before: tuple[dt.datetime, uuid.UUID] | None = None  # the cursor: strictly older than this position


_COLUMNS = [calls.c[f.name] for f in fields(CallRecord)]


def _record(row: Row[Any]) -> CallRecord:
    values = dict(row._mapping)
    values["status"] = CallStatus(values["status"])
    return CallRecord(**values)


async def insert_call(session: AsyncSession, values: Mapping[str, Any], *, ended: bool = False) -> CallRecord:
    """Insert a call; ``ended``: it ends as it is recorded (``ended_at`` = now)."""
    query = insert(calls).values(**values)
    if ended:
        query = query.values(ended_at=func.clock_timestamp())
    row = (await session.execute(query.returning(*_COLUMNS))).one()
    return _record(row)


async def get(session: AsyncSession, call_id: uuid.UUID, *, lock: bool = False) -> CallRecord | None:
    query = select(*_COLUMNS).where(calls.c.id == call_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def update_call(session: AsyncSession, call_id: uuid.UUID, **changes: Any) -> CallRecord:
    """Set columns of one call (and ``updated_at``); the names are the caller's own, never input."""
    query = (
        update(calls)
        .where(calls.c.id == call_id)
        .values(**changes, updated_at=func.clock_timestamp())
        .returning(*_COLUMNS)
    )
    return _record((await session.execute(query)).one())


async def list_calls(session: AsyncSession, where: CallFilter, limit: int) -> list[CallRecord]:
    """Newest first (``created_at``, then ``id``)."""
    conditions: list[ColumnElement[bool]] = []
    if where.statuses:
        conditions.append(calls.c.status.in_([s.value for s in where.statuses]))
    if where.to_number is not None:
        conditions.append(calls.c.to_number == where.to_number)
    if where.created_after is not None:
        conditions.append(calls.c.created_at > where.created_after)
    if where.created_before is not None:
        conditions.append(calls.c.created_at < where.created_before)
    if where.before is not None:
        conditions.append(tuple_(calls.c.created_at, calls.c.id) < tuple_(*where.before))
    query = (
        select(*_COLUMNS)
        .where(and_(True, *conditions))
        .order_by(calls.c.created_at.desc(), calls.c.id.desc())
        .limit(limit)
    )
    return [_record(row) for row in (await session.execute(query)).all()]


async def add_timeline_entry(
    session: AsyncSession, call_id: uuid.UUID, status: CallStatus, at: dt.datetime, details: Mapping[str, Any]
) -> None:
    values = {"call_id": call_id, "status": status.value, "at": at, "details": dict(details)}
    await session.execute(insert(call_events).values(**values))


async def timeline(session: AsyncSession, call_id: uuid.UUID) -> list[TimelineEntry]:
    query = (
        select(call_events.c.status, call_events.c.at, call_events.c.details)
        .where(call_events.c.call_id == call_id)
        .order_by(call_events.c.id)
    )
    rows = (await session.execute(query)).all()
    return [TimelineEntry(CallStatus(row.status), row.at, row.details) for row in rows]
