"""All SQL of the bridge's call records (table ``bridge_calls``, migration 0002)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.calls import ACTIVE, CallStatus


@dataclass(frozen=True, slots=True)
class BridgeCall:
    call_id: str
    status: CallStatus
    trunk: str
    node: str | None
    to_number: str
    caller_id: str | None
    ring_timeout_seconds: int
    max_duration_seconds: int | None
    machine_detection: bool
    variables: dict[str, str]
    dialplan: dict[str, str | int] | None  # an IVR call: {"context", "extension", "priority"}
    hangup_requested: bool
    answered_by: str | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    sip_code: int | None
    failure_reason: str | None
    created_at: dt.datetime
    dialed_at: dt.datetime | None
    ringing_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE


_COLUMNS = ", ".join(BridgeCall.__dataclass_fields__)
_ACTIVE_STATUSES = [s.value for s in ACTIVE]


def _call(row: Any) -> BridgeCall:
    values = dict(row._mapping)
    values["status"] = CallStatus(values["status"])
    return BridgeCall(**values)


async def get(session: AsyncSession, call_id: str, *, lock: bool = False) -> BridgeCall | None:
    suffix = " FOR UPDATE" if lock else ""
    query = text(f"SELECT {_COLUMNS} FROM bridge_calls WHERE call_id = :call_id{suffix}")
    row = (await session.execute(query, {"call_id": call_id})).one_or_none()
    return None if row is None else _call(row)


async def insert_queued(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Record a new call as queued; False if a call with this id exists already."""
    result = await session.execute(
        text(
            """
            INSERT INTO bridge_calls (call_id, status, trunk, to_number, caller_id, ring_timeout_seconds,
                                      max_duration_seconds, machine_detection, variables, dialplan)
            VALUES (:call_id, 'queued', :trunk, :to_number, :caller_id, :ring_timeout_seconds,
                    :max_duration_seconds, :machine_detection, CAST(:variables AS jsonb),
                    CAST(:dialplan AS jsonb))
            ON CONFLICT (call_id) DO NOTHING
            """
        ),
        values,
    )
    return bool(getattr(result, "rowcount", 0))


async def insert_dialing(session: AsyncSession, values: dict[str, Any]) -> BridgeCall | None:
    """Record a new call already ``dialing`` on ``values["node"]`` (capacity was free at once); None if a
    call with this id exists already."""
    row = (
        await session.execute(
            text(
                f"""
                INSERT INTO bridge_calls (call_id, status, node, dialed_at, trunk, to_number, caller_id,
                                          ring_timeout_seconds, max_duration_seconds, machine_detection,
                                          variables, dialplan)
                VALUES (:call_id, 'dialing', :node, clock_timestamp(), :trunk, :to_number, :caller_id,
                        :ring_timeout_seconds, :max_duration_seconds, :machine_detection,
                        CAST(:variables AS jsonb), CAST(:dialplan AS jsonb))
                ON CONFLICT (call_id) DO NOTHING
                RETURNING {_COLUMNS}
                """
            ),
            values,
        )
    ).one_or_none()
    return None if row is None else _call(row)


async def update(session: AsyncSession, call_id: str, **changes: Any) -> None:
    """Set columns of one call (``updated_at`` too); column names are this module's own, never input."""
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    await session.execute(
        text(
            f"UPDATE bridge_calls SET {assignments}, updated_at = clock_timestamp() WHERE call_id = :call_id"
        ),
        {**changes, "call_id": call_id},
    )


async def claim_abandoned(session: AsyncSession, call_id: str, reason: str) -> bool:
    """Mark an answered call abandoned (its ``failure_reason``); False — nothing changed — if it is not
    answered, is being hung up, has a failure reason already, or was marked before."""
    result = await session.execute(
        text(
            """
            UPDATE bridge_calls SET failure_reason = :reason, updated_at = clock_timestamp()
            WHERE call_id = :call_id AND status = 'answered' AND failure_reason IS NULL
              AND NOT hangup_requested
            """
        ),
        {"call_id": call_id, "reason": reason},
    )
    return bool(getattr(result, "rowcount", 0))


async def active_on_node(session: AsyncSession, node: str) -> list[BridgeCall]:
    query = text(f"SELECT {_COLUMNS} FROM bridge_calls WHERE node = :node AND status = ANY(:active)")
    rows = (await session.execute(query, {"node": node, "active": _ACTIVE_STATUSES})).all()
    return [_call(row) for row in rows]


async def ended_on_node(session: AsyncSession, node: str, call_ids: list[str]) -> list[str]:
    """Which of these call ids are calls on the node that have ended."""
    query = text(
        "SELECT call_id FROM bridge_calls"
        " WHERE call_id = ANY(:ids) AND node = :node AND NOT status = ANY(:active)"
    )
    rows = await session.execute(query, {"ids": call_ids, "node": node, "active": _ACTIVE_STATUSES})
    return list(rows.scalars())


async def active_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Active calls per (node, trunk), to restore the capacity counters after a restart."""
    query = text(
        "SELECT node, trunk, count(*) FROM bridge_calls WHERE status = ANY(:active) GROUP BY node, trunk"
    )
    rows = (await session.execute(query, {"active": _ACTIVE_STATUSES})).all()
    return {(row[0], row[1]): row[2] for row in rows}


async def claim_overdue(session: AsyncSession) -> list[BridgeCall]:
    """Answered calls past their maximum duration, marked ``hangup_requested`` so they are claimed once."""
    query = text(
        f"""
        UPDATE bridge_calls SET hangup_requested = true, updated_at = clock_timestamp()
        WHERE status = 'answered' AND NOT hangup_requested AND max_duration_seconds IS NOT NULL
          AND answered_at + make_interval(secs => max_duration_seconds) < clock_timestamp()
        RETURNING {_COLUMNS}
        """
    )
    return [_call(row) for row in (await session.execute(query)).all()]
