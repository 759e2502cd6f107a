"""All SQL of the dial refusals (table ``dial_refusals``, migration 0010): one row per dial a rule refused,
whether a call asked for through the API (with its ``call_id``) or a campaign's dial (with its lead)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from prometheus_client import Counter
from sqlalchemy import ColumnElement, Row, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import dial_refusals
from dialplane.api.calls import RefusalRule
from dialplane.metrics import NAMESPACE

REFUSALS = Counter(
    "dialer_dial_refusals_total",
    "Dials refused by a rule, by rule and by who asked (api or campaign).",
    ["rule", "origin"],
    namespace=NAMESPACE,
)


@dataclass(frozen=True, slots=True)
class RefusalRecord:
    id: int
    at: dt.datetime
    rule: RefusalRule
    reason: str
    number: str
    campaign_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    call_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class RefusalFilter:
    campaign_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    rules: Sequence[RefusalRule] = ()
    since: dt.datetime | None = None  # at or after
    until: dt.datetime | None = None  # before
    before: tuple[dt.datetime, int] | None = None  # the cursor: strictly older than this position


_COLUMNS = [dial_refusals.c[f.name] for f in fields(RefusalRecord)]


def _record(row: Row[Any]) -> RefusalRecord:
    return RefusalRecord(**row._mapping)


async def record(
    session: AsyncSession,
    *,
    rule: RefusalRule,
    reason: str,
    number: str,
    campaign_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    call_id: uuid.UUID | None = None,
) -> None:
    """Record a refused dial (in the caller's transaction, with the decision it records)."""
    values = {
        "rule": rule,
        "reason": reason,
        "number": number,
        "campaign_id": campaign_id,
        "lead_id": lead_id,
        "call_id": call_id,
    }
    await session.execute(insert(dial_refusals).values(**values))
    REFUSALS.labels(rule, "api" if campaign_id is None else "campaign").inc()


async def list_refusals(session: AsyncSession, where: RefusalFilter, limit: int) -> list[RefusalRecord]:
    """Newest first (``at``, then ``id``)."""
    table = dial_refusals.c
    conditions: list[ColumnElement[bool]] = []
    if where.campaign_id is not None:
        conditions.append(table.campaign_id == where.campaign_id)
    if where.lead_id is not None:
        conditions.append(table.lead_id == where.lead_id)
    if where.rules:
        conditions.append(table.rule.in_(list(where.rules)))
    if where.since is not None:
        conditions.append(table.at >= where.since)
    if where.until is not None:
        conditions.append(table.at < where.until)
    if where.before is not None:
        conditions.append(tuple_(table.at, table.id) < tuple_(*where.before))
    query = select(*_COLUMNS).where(*conditions).order_by(table.at.desc(), table.id.desc()).limit(limit)
    return [_record(row) for row in (await session.execute(query)).all()]
