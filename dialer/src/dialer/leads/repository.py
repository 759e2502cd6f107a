"""All SQL of leads (table ``leads``, migration 0010; ``campaign_leads`` for the campaign filter)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Row,
    and_,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import campaign_leads, leads
from dialplane.api.leads import LeadStatus

PHONE_UNIQUE = "leads_phone_unique"


@dataclass(frozen=True, slots=True)
class LeadRecord:
    id: uuid.UUID
    phone: str
    name: str | None
    email: str | None
    timezone: str | None
    language: str | None
    consent: bool
    consent_source: str | None
    consent_at: dt.datetime | None
    partner: str | None
    status: LeadStatus
    custom_fields: dict[str, Any]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LeadFilter:
    statuses: Sequence[str] = ()
    partner: str | None = None
    language: str | None = None
    consent: bool | None = None
    phone: str | None = None
    text: str | None = None  # a part of the name or the email, any case
    campaign_id: uuid.UUID | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    before: tuple[dt.datetime, uuid.UUID] | None = None  # the cursor: strictly older than this position


class PhoneTakenError(Exception):
    """Another lead has this phone number."""


_COLUMNS = [leads.c[f.name] for f in fields(LeadRecord)]


def _record(row: Row[Any]) -> LeadRecord:
    return LeadRecord(**row._mapping)


async def insert_new(session: AsyncSession, values: Mapping[str, Any]) -> LeadRecord | None:
    """Insert a lead; ``None`` if a lead with its phone exists (nothing changed)."""
    query = insert(leads).values(**values).on_conflict_do_nothing(index_elements=["phone"])
    row = (await session.execute(query.returning(*_COLUMNS))).one_or_none()
    return None if row is None else _record(row)


async def upsert(
    session: AsyncSession, values: Mapping[str, Any], merged: Sequence[str]
) -> tuple[uuid.UUID, bool]:
    """Insert a lead, or, if its phone exists, set the ``merged`` columns of that lead to ``values``' ones
    (custom fields key by key). Returns the lead's id and whether it was inserted."""
    query = insert(leads).values(**values)
    changes: dict[str, Any] = {name: query.excluded[name] for name in merged if name != "custom_fields"}
    if "custom_fields" in merged:
        changes["custom_fields"] = leads.c.custom_fields.op("||")(query.excluded.custom_fields)
    query = query.on_conflict_do_update(
        index_elements=["phone"], set_=changes | {"updated_at": func.clock_timestamp()}
    )
    inserted = literal_column("(xmax = 0)", Boolean).label("inserted")  # 0: no earlier row version
    row = (await session.execute(query.returning(leads.c.id, inserted))).one()
    return row.id, bool(row.inserted)


async def get(session: AsyncSession, lead_id: uuid.UUID, *, lock: bool = False) -> LeadRecord | None:
    query = select(*_COLUMNS).where(leads.c.id == lead_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def id_by_phone(session: AsyncSession, phone: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await session.scalar(select(leads.c.id).where(leads.c.phone == phone))
    return found


async def update_lead(session: AsyncSession, lead_id: uuid.UUID, changes: Mapping[str, Any]) -> LeadRecord:
    """Set columns of one lead (and ``updated_at``); :class:`PhoneTakenError` if the new phone is another
    lead's (the transaction stays usable)."""
    query = (
        update(leads)
        .where(leads.c.id == lead_id)
        .values(**changes, updated_at=func.clock_timestamp())
        .returning(*_COLUMNS)
    )
    try:
        async with session.begin_nested():
            row = (await session.execute(query)).one()
    except IntegrityError as exc:
        if PHONE_UNIQUE in str(exc.orig):
            raise PhoneTakenError from exc
        raise
    return _record(row)


async def delete_lead(session: AsyncSession, lead_id: uuid.UUID) -> None:
    """Delete a lead (its campaign memberships go with it)."""
    await session.execute(delete(leads).where(leads.c.id == lead_id))


async def list_leads(session: AsyncSession, where: LeadFilter, limit: int) -> list[LeadRecord]:
    """Newest first (``created_at``, then ``id``)."""
    query = (
        select(*_COLUMNS)
        .where(and_(True, *_conditions(where)))
        .order_by(leads.c.created_at.desc(), leads.c.id.desc())
        .limit(limit)
    )
    return [_record(row) for row in (await session.execute(query)).all()]


def _conditions(where: LeadFilter) -> list[ColumnElement[bool]]:
    conditions = _field_conditions(where)
    if where.created_after is not None:
        conditions.append(leads.c.created_at > where.created_after)
    if where.created_before is not None:
        conditions.append(leads.c.created_at < where.created_before)
    if where.campaign_id is not None:
        member = (campaign_leads.c.lead_id == leads.c.id) & (
            campaign_leads.c.campaign_id == where.campaign_id
        )
        conditions.append(exists().where(member))
    if where.before is not None:
        conditions.append(tuple_(leads.c.created_at, leads.c.id) < tuple_(*where.before))
    return conditions


def _field_conditions(where: LeadFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.statuses:
        conditions.append(leads.c.status.in_(where.statuses))
    if where.partner is not None:
        conditions.append(leads.c.partner == where.partner)
    if where.language is not None:
        conditions.append(func.lower(leads.c.language) == where.language.lower())
    if where.consent is not None:
        conditions.append(leads.c.consent.is_(where.consent))
    if where.phone is not None:
        conditions.append(leads.c.phone == where.phone)
    if where.text is not None:
        pattern = "%" + _escape_like(where.text) + "%"
        conditions.append(
            or_(leads.c.name.ilike(pattern, escape="\\"), leads.c.email.ilike(pattern, escape="\\"))
        )
    return conditions


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
