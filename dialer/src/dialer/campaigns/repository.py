"""All SQL of campaigns and their leads (tables ``campaigns``, ``campaign_leads``, migration 0010)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Row,
    Uuid,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import campaign_leads, campaigns, leads
from dialplane.api.campaigns import LeadSelection


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    id: uuid.UUID
    name: str
    status: str
    status_reason: str | None
    agent_profile: str
    caller_id: str | None
    lead_filter: dict[str, Any] | None
    schedule: dict[str, Any]
    max_concurrent_calls: int
    calls_per_second: float
    retry_policy: dict[str, Any]
    attempt_cap: int
    attempt_window_seconds: int
    require_consent: bool
    abandon_rate_limit: float
    ring_timeout_seconds: int | None
    machine_detection: bool
    next_dial_at: dt.datetime | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class CampaignLeadRecord:
    campaign_id: uuid.UUID
    lead_id: uuid.UUID
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    call_id: uuid.UUID | None
    last_result: str | None
    callback_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LeadToDial:
    """A due lead of a running campaign, claimed (its rows locked) for this transaction."""

    lead_id: uuid.UUID
    phone: str
    name: str | None
    email: str | None
    timezone: str | None
    consent: bool
    lead_status: str
    attempts: int


@dataclass(frozen=True, slots=True)
class CampaignLeadRow:
    """A campaign's lead as the list shows it."""

    lead: CampaignLeadRecord
    phone: str
    name: str | None


_COLUMNS = [campaigns.c[f.name] for f in fields(CampaignRecord)]
_LEAD_COLUMNS = [campaign_leads.c[f.name] for f in fields(CampaignLeadRecord)]
BUSY_LEAD = ("queued", "calling")


def _campaign(row: Row[Any]) -> CampaignRecord:
    return CampaignRecord(**row._mapping)


async def insert_campaign(session: AsyncSession, values: Mapping[str, Any]) -> CampaignRecord:
    row = (await session.execute(insert(campaigns).values(**values).returning(*_COLUMNS))).one()
    return _campaign(row)


async def get(
    session: AsyncSession, campaign_id: uuid.UUID, *, lock: bool = False, skip_locked: bool = False
) -> CampaignRecord | None:
    query = select(*_COLUMNS).where(campaigns.c.id == campaign_id)
    if lock or skip_locked:
        query = query.with_for_update(skip_locked=skip_locked)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _campaign(row)


async def list_campaigns(
    session: AsyncSession,
    statuses: Sequence[str],
    before: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[CampaignRecord]:
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        conditions.append(campaigns.c.status.in_(statuses))
    if before is not None:
        conditions.append(tuple_(campaigns.c.created_at, campaigns.c.id) < tuple_(*before))
    query = (
        select(*_COLUMNS)
        .where(and_(true(), *conditions))
        .order_by(campaigns.c.created_at.desc(), campaigns.c.id.desc())
        .limit(limit)
    )
    return [_campaign(row) for row in (await session.execute(query)).all()]


async def update_campaign(session: AsyncSession, campaign_id: uuid.UUID, **changes: Any) -> CampaignRecord:
    query = (
        update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(**changes, updated_at=func.clock_timestamp())
        .returning(*_COLUMNS)
    )
    return _campaign((await session.execute(query)).one())


async def delete_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> None:
    await session.execute(delete(campaigns).where(campaigns.c.id == campaign_id))


async def running_ids(session: AsyncSession) -> list[uuid.UUID]:
    query = select(campaigns.c.id).where(campaigns.c.status == "running").order_by(campaigns.c.started_at)
    return list((await session.execute(query)).scalars())


async def add_leads(
    session: AsyncSession, campaign_id: uuid.UUID, selection: LeadSelection, due: dt.datetime
) -> int:
    """Add the selected leads, due at ``due`` (those already in the campaign stay as they are); returns how
    many joined."""
    chosen: list[ColumnElement[bool]] = []
    if selection.lead_ids:
        chosen.append(leads.c.id.in_(selection.lead_ids))
    if selection.uses_filter:
        chosen.append(_filter(selection))
    if not chosen:
        return 0
    source = select(literal(campaign_id, Uuid()), leads.c.id, literal(due, DateTime(timezone=True))).where(
        chosen[0] if len(chosen) == 1 else chosen[0] | chosen[1]
    )
    query = (
        pg_insert(campaign_leads)
        .from_select(["campaign_id", "lead_id", "next_attempt_at"], source)
        .on_conflict_do_nothing()
        .returning(campaign_leads.c.lead_id)
    )
    return len((await session.execute(query)).all())


def _filter(selection: LeadSelection) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if selection.status is not None:
        conditions.append(leads.c.status.in_(selection.status))
    if selection.partner is not None:
        conditions.append(leads.c.partner == selection.partner)
    if selection.language is not None:
        conditions.append(leads.c.language == selection.language)
    if selection.consent is not None:
        conditions.append(leads.c.consent.is_(selection.consent))
    return and_(true(), *conditions)


async def missing_leads(session: AsyncSession, lead_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    found = set((await session.execute(select(leads.c.id).where(leads.c.id.in_(lead_ids)))).scalars())
    return [lead_id for lead_id in lead_ids if lead_id not in found]


async def list_campaign_leads(
    session: AsyncSession,
    campaign_id: uuid.UUID,
    statuses: Sequence[str],
    before: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[CampaignLeadRow]:
    """Newest members first."""
    conditions: list[ColumnElement[bool]] = [campaign_leads.c.campaign_id == campaign_id]
    if statuses:
        conditions.append(campaign_leads.c.status.in_(statuses))
    if before is not None:
        conditions.append(tuple_(campaign_leads.c.created_at, campaign_leads.c.lead_id) < tuple_(*before))
    query = (
        select(*_LEAD_COLUMNS, leads.c.phone, leads.c.name)
        .join(leads, leads.c.id == campaign_leads.c.lead_id)
        .where(*conditions)
        .order_by(campaign_leads.c.created_at.desc(), campaign_leads.c.lead_id.desc())
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [CampaignLeadRow(_campaign_lead(row), row.phone, row.name) for row in rows]


async def get_campaign_lead_row(
    session: AsyncSession, campaign_id: uuid.UUID, lead_id: uuid.UUID
) -> CampaignLeadRow | None:
    query = (
        select(*_LEAD_COLUMNS, leads.c.phone, leads.c.name)
        .join(leads, leads.c.id == campaign_leads.c.lead_id)
        .where(campaign_leads.c.campaign_id == campaign_id, campaign_leads.c.lead_id == lead_id)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else CampaignLeadRow(_campaign_lead(row), row.phone, row.name)


def _campaign_lead(row: Row[Any, *tuple[Any, ...]]) -> CampaignLeadRecord:
    return CampaignLeadRecord(**{f.name: row._mapping[f.name] for f in fields(CampaignLeadRecord)})


async def get_campaign_lead(
    session: AsyncSession, campaign_id: uuid.UUID, lead_id: uuid.UUID, *, lock: bool = False
) -> CampaignLeadRecord | None:
    query = select(*_LEAD_COLUMNS).where(
        campaign_leads.c.campaign_id == campaign_id, campaign_leads.c.lead_id == lead_id
    )
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _campaign_lead(row)


async def set_lead_state(
    session: AsyncSession, campaign_id: uuid.UUID, lead_id: uuid.UUID, **changes: Any
) -> None:
    """Change the campaign's lead; its ``status`` (when given) becomes the lead's own status too."""
    await session.execute(
        update(campaign_leads)
        .where(campaign_leads.c.campaign_id == campaign_id, campaign_leads.c.lead_id == lead_id)
        .values(**changes, updated_at=func.clock_timestamp())
    )
    if "status" in changes:
        await session.execute(
            update(leads)
            .where(leads.c.id == lead_id)
            .values(status=changes["status"], updated_at=func.clock_timestamp())
        )


async def claim_due(
    session: AsyncSession, campaign_id: uuid.UUID, now: dt.datetime, limit: int
) -> list[LeadToDial]:
    """Due leads, earliest first, locked (``SKIP LOCKED``: another dialer's claims are passed over); a lead
    being called by another campaign is not due."""
    query = (
        select(
            leads.c.id.label("lead_id"),
            leads.c.phone,
            leads.c.name,
            leads.c.email,
            leads.c.timezone,
            leads.c.consent,
            leads.c.status.label("lead_status"),
            campaign_leads.c.attempts,
        )
        .join(leads, leads.c.id == campaign_leads.c.lead_id)
        .where(
            campaign_leads.c.campaign_id == campaign_id,
            campaign_leads.c.next_attempt_at <= now,
            leads.c.status.not_in(BUSY_LEAD),
        )
        .order_by(campaign_leads.c.next_attempt_at)
        .limit(limit)
        .with_for_update(of=[campaign_leads, leads], skip_locked=True)
    )
    return [LeadToDial(**row._mapping) for row in (await session.execute(query)).all()]


async def unfinished(session: AsyncSession, campaign_id: uuid.UUID) -> bool:
    """Whether any lead will still be dialed or is being called."""
    query = select(
        select(campaign_leads.c.lead_id)
        .where(
            campaign_leads.c.campaign_id == campaign_id,
            campaign_leads.c.next_attempt_at.is_not(None) | campaign_leads.c.status.in_(BUSY_LEAD),
        )
        .exists()
    )
    return bool((await session.execute(query)).scalar())
