"""All SQL of webhook delivery (tables ``webhook_deliveries`` and ``webhook_attempts``, migration 0005).

A delivery is claimed with a lease (token, expiry): ``attempts`` counts claims, and a claim that finds an
expired lease logs the lost attempt first. Outcomes are written only while the lease is still ours, in one
statement that also logs the attempt.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.events.wakeup import COMMANDS_CHANNEL

Status = Literal["pending", "delivered", "failed"]

WAKEUP_NAME = "dialer-webhooks"
"""Name notified on the commands channel when a delivery is enqueued (wakes runners at commit)."""

LOST_ATTEMPT_ERROR = "lease expired: the runner was lost during the attempt"


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    call_id: str
    url: str
    event_type: str
    payload: dict[str, Any]
    status: Status
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    attempt: int
    started_at: dt.datetime
    duration_ms: int | None
    status_code: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to store after an attempt: the delivery's new status and the attempt's record."""

    status: Status
    started_at: dt.datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    retry_in_seconds: float = 0.0


_COLUMNS = ", ".join(Delivery.__dataclass_fields__)
_RETURNING = ", ".join(f"d.{name}" for name in Delivery.__dataclass_fields__)

_INSERT = text(
    """
    INSERT INTO webhook_deliveries (call_id, url, event_type, payload)
    VALUES (:call_id, :url, :event_type, CAST(:payload AS jsonb))
    """
)
_NOTIFY = text("SELECT pg_notify(:channel, :name)")
_CLAIM = text(
    f"""
    WITH candidate AS (
        SELECT d.id, d.attempts, d.leased_at, d.lease_token FROM webhook_deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp()
          AND (d.lease_expires_at IS NULL OR d.lease_expires_at < clock_timestamp())
          AND d.id = (  -- the call's oldest pending delivery: one index probe, whatever the statistics say
              SELECT e.id FROM webhook_deliveries e
              WHERE e.call_id = d.call_id AND e.status = 'pending' ORDER BY e.id LIMIT 1)
        ORDER BY d.next_attempt_at, d.id
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    ), lost AS (
        INSERT INTO webhook_attempts (delivery_id, attempt, started_at, error)
        SELECT id, attempts, leased_at, :lost_error FROM candidate WHERE lease_token IS NOT NULL
    )
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, lease_token = :token, leased_at = clock_timestamp(),
        lease_expires_at = clock_timestamp() + make_interval(secs => :lease)
    FROM candidate WHERE d.id = candidate.id
    RETURNING {_RETURNING}
    """
)
_FINISH = text(
    """
    WITH finished AS (
        UPDATE webhook_deliveries
        SET status = CAST(:status AS text), lease_token = NULL, leased_at = NULL, lease_expires_at = NULL,
            next_attempt_at = clock_timestamp() + make_interval(secs => :retry_in),
            delivered_at = CASE WHEN CAST(:status AS text) = 'delivered' THEN clock_timestamp() END,
            last_status_code = :status_code, last_error = :error
        WHERE id = :id AND lease_token = :token
        RETURNING id, attempts
    )
    INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error)
    SELECT id, attempts, :started_at, :duration_ms, :status_code, :error FROM finished
    """
)
_GIVE_UP = text(
    """
    UPDATE webhook_deliveries
    SET status = 'failed', attempts = attempts - 1, lease_token = NULL, leased_at = NULL,
        lease_expires_at = NULL, last_error = :error
    WHERE id = :id AND lease_token = :token
    """
)
_PENDING_STATS = text(
    """
    SELECT count(*) AS pending,
           coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) AS oldest_age
    FROM webhook_deliveries WHERE status = 'pending'
    """
)


def _json_default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _delivery(row: Any) -> Delivery:
    return Delivery(**dict(row._mapping))


async def insert(
    session: AsyncSession, *, call_id: str, url: str, event_type: str, payload: Mapping[str, Any]
) -> None:
    """Add a pending delivery to the caller's transaction, and wake the runners when it commits."""
    body = json.dumps(payload, default=_json_default)
    values = {"call_id": call_id, "url": url, "event_type": event_type, "payload": body}
    await session.execute(_INSERT, values)
    await session.execute(_NOTIFY, {"channel": COMMANDS_CHANNEL, "name": WAKEUP_NAME})


async def claim(session: AsyncSession, *, limit: int, token: str, lease_seconds: float) -> list[Delivery]:
    """Lease up to ``limit`` due deliveries, each the oldest pending one of its call."""
    params = {"limit": limit, "token": token, "lease": lease_seconds, "lost_error": LOST_ATTEMPT_ERROR}
    rows = (await session.execute(_CLAIM, params)).all()
    return sorted((_delivery(row) for row in rows), key=lambda d: d.id)


async def finish(session: AsyncSession, delivery_id: int, token: str, outcome: Outcome) -> bool:
    """Store an attempt's outcome and log the attempt; False (nothing written) if the lease was lost."""
    params = {
        "id": delivery_id,
        "token": token,
        "status": outcome.status,
        "retry_in": outcome.retry_in_seconds,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "started_at": outcome.started_at,
        "duration_ms": outcome.duration_ms,
    }
    result: Any = await session.execute(_FINISH, params)
    return bool(result.rowcount == 1)


async def give_up(session: AsyncSession, delivery_id: int, token: str, error: str) -> bool:
    """Mark a claimed delivery failed without attempting it (its attempts ran out on lost leases)."""
    result: Any = await session.execute(_GIVE_UP, {"id": delivery_id, "token": token, "error": error})
    return bool(result.rowcount == 1)


async def pending_stats(session: AsyncSession) -> tuple[int, float]:
    """The number of pending deliveries and the age in seconds of the oldest (0 when none)."""
    row = (await session.execute(_PENDING_STATS)).one()
    return int(row.pending), float(row.oldest_age)


async def get(session: AsyncSession, delivery_id: int) -> Delivery | None:
    query = text(f"SELECT {_COLUMNS} FROM webhook_deliveries WHERE id = :id")
    row = (await session.execute(query, {"id": delivery_id})).one_or_none()
    return None if row is None else _delivery(row)


async def list_for_call(session: AsyncSession, call_id: str) -> list[Delivery]:
    """The call's deliveries, oldest first."""
    query = text(f"SELECT {_COLUMNS} FROM webhook_deliveries WHERE call_id = :call_id ORDER BY id")
    return [_delivery(row) for row in await session.execute(query, {"call_id": call_id})]


async def list_attempts(session: AsyncSession, delivery_id: int) -> list[Attempt]:
    query = text(
        "SELECT attempt, started_at, duration_ms, status_code, error FROM webhook_attempts"
        " WHERE delivery_id = :id ORDER BY attempt, id"
    )
    return [Attempt(**dict(row._mapping)) for row in await session.execute(query, {"id": delivery_id})]
