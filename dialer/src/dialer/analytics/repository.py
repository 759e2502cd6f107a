"""All SQL of the analytics: aggregates over the calls placed, and the leads added, in a window.

Calls are found by ``created_at`` (index ``calls_newest``, or ``calls_by_campaign`` for one campaign), leads
by ``created_at`` (``leads_by_created``) or, for one campaign, by the campaign's rows (its primary key); live
calls by status (``calls_by_status``). Every figure is computed in PostgreSQL, one query per endpoint part.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, RowMapping, Subquery, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.analytics.expressions import (
    DURATION_SECONDS,
    LIVE,
    MEETING_BOOKED,
    PERSON_ANSWERED,
    PLACED,
    as_float,
    final_lead,
)
from dialer.tables import calls, campaign_leads, campaigns, leads
from dialplane.api.campaigns import CampaignStatus
from dialplane.calls import CallStatus

ACTIVE_CAMPAIGN_STATUSES = ("running", "paused")


@dataclass(frozen=True, slots=True)
class Period:
    """Calls created, and leads added, in ``[since, until)``; of one campaign when ``campaign_id`` is set."""

    since: dt.datetime
    until: dt.datetime
    campaign_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class CallSummary:
    calls: int
    answered: int
    meetings_booked: int
    average_duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class LanguageCalls:
    calls: int
    meetings_booked: int


@dataclass(frozen=True, slots=True)
class RecentCallRow:
    call_id: uuid.UUID
    campaign_id: uuid.UUID | None
    campaign_name: str | None
    lead_id: uuid.UUID | None
    to_number: str
    status: CallStatus
    answered_by: str | None
    outcome: str | None
    created_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_seconds: float | None


@dataclass(frozen=True, slots=True)
class ActiveCampaignRow:
    campaign_id: uuid.UUID
    name: str
    status: CampaignStatus
    status_reason: str | None
    started_at: dt.datetime | None
    max_concurrent_calls: int
    leads: int
    final_leads: int
    live_calls: int


@dataclass(frozen=True, slots=True)
class VoiceRow:
    profile: str
    calls: int
    answered: int
    meetings_booked: int
    average_duration_seconds: float | None
    average_agent_audio_delay_seconds: float | None


def _placed_in(period: Period) -> list[ColumnElement[bool]]:
    conditions = [calls.c.created_at >= period.since, calls.c.created_at < period.until, PLACED]
    if period.campaign_id is not None:
        conditions.append(calls.c.campaign_id == period.campaign_id)
    return conditions


def _added_leads(period: Period) -> Subquery:
    """``(lead_id, language, status)`` of the leads added in the window: to the campaign (its status for
    them), or to the lead list (the lead's own status)."""
    if period.campaign_id is None:
        query = select(leads.c.id.label("lead_id"), leads.c.language, leads.c.status).where(
            leads.c.created_at >= period.since, leads.c.created_at < period.until
        )
    else:
        query = (
            select(campaign_leads.c.lead_id, leads.c.language, campaign_leads.c.status)
            .join(leads, leads.c.id == campaign_leads.c.lead_id)
            .where(
                campaign_leads.c.campaign_id == period.campaign_id,
                campaign_leads.c.created_at >= period.since,
                campaign_leads.c.created_at < period.until,
            )
        )
    return query.subquery("added_leads")


async def campaign_exists(session: AsyncSession, campaign_id: uuid.UUID) -> bool:
    query = select(exists().where(campaigns.c.id == campaign_id))
    return bool((await session.execute(query)).scalar_one())


async def call_summary(session: AsyncSession, period: Period) -> CallSummary:
    query = select(
        func.count().label("calls"),
        func.count().filter(PERSON_ANSWERED).label("answered"),
        func.count().filter(MEETING_BOOKED).label("meetings_booked"),
        func.avg(DURATION_SECONDS).filter(PERSON_ANSWERED).label("duration"),
    ).where(*_placed_in(period))
    row = (await session.execute(query)).one()
    return CallSummary(row.calls, row.answered, row.meetings_booked, as_float(row.duration))


async def live_calls(session: AsyncSession, campaign_id: uuid.UUID | None) -> int:
    query = select(func.count()).where(LIVE)
    if campaign_id is not None:
        query = query.where(calls.c.campaign_id == campaign_id)
    return int((await session.execute(query)).scalar_one())


async def leads_by_status(session: AsyncSession, period: Period) -> dict[str, int]:
    added = _added_leads(period)
    query = select(added.c.status, func.count().label("leads")).group_by(added.c.status)
    return {row.status: row.leads for row in (await session.execute(query)).all()}


async def calls_by_status_and_outcome(
    session: AsyncSession, period: Period
) -> list[tuple[str, str | None, int]]:
    """``(status, outcome, calls)`` of the calls placed in the window."""
    query = (
        select(calls.c.status, calls.c.outcome, func.count().label("calls"))
        .where(*_placed_in(period))
        .group_by(calls.c.status, calls.c.outcome)
    )
    return [(row.status, row.outcome, row.calls) for row in (await session.execute(query)).all()]


async def leads_by_language(session: AsyncSession, period: Period) -> dict[str | None, int]:
    added = _added_leads(period)
    query = select(added.c.language, func.count().label("leads")).group_by(added.c.language)
    return {row.language: row.leads for row in (await session.execute(query)).all()}


async def calls_by_language(session: AsyncSession, period: Period) -> dict[str | None, LanguageCalls]:
    """By the called lead's language; calls without a lead count under None."""
    query = (
        select(
            leads.c.language, func.count().label("calls"), func.count().filter(MEETING_BOOKED).label("met")
        )
        .select_from(calls.outerjoin(leads, leads.c.id == calls.c.lead_id))
        .where(*_placed_in(period))
        .group_by(leads.c.language)
    )
    rows = (await session.execute(query)).all()
    return {row.language: LanguageCalls(row.calls, row.met) for row in rows}


async def recent_calls(session: AsyncSession, period: Period, limit: int) -> list[RecentCallRow]:
    """The newest calls placed in the window, newest first."""
    query = (
        select(
            calls.c.id.label("call_id"),
            calls.c.campaign_id,
            campaigns.c.name.label("campaign_name"),
            calls.c.lead_id,
            calls.c.to_number,
            calls.c.status,
            calls.c.answered_by,
            calls.c.outcome,
            calls.c.created_at,
            calls.c.answered_at,
            calls.c.ended_at,
            DURATION_SECONDS.label("duration_seconds"),
        )
        .select_from(calls.outerjoin(campaigns, campaigns.c.id == calls.c.campaign_id))
        .where(*_placed_in(period))
        .order_by(calls.c.created_at.desc(), calls.c.id.desc())
        .limit(limit)
    )
    return [_recent_call(row._mapping) for row in (await session.execute(query)).all()]


def _recent_call(columns: RowMapping) -> RecentCallRow:
    values = dict(columns)
    values["status"] = CallStatus(values["status"])
    values["duration_seconds"] = as_float(values["duration_seconds"])
    return RecentCallRow(**values)


async def active_campaigns(session: AsyncSession, campaign_id: uuid.UUID | None) -> list[ActiveCampaignRow]:
    """Running and paused campaigns, newest first, with their lead counts (each campaign's rows, by its
    primary key) and live calls (the few calls not ended, by status)."""
    lead_counts = (
        select(
            func.count().label("leads"), func.count().filter(final_lead(campaign_leads)).label("final_leads")
        )
        .where(campaign_leads.c.campaign_id == campaigns.c.id)
        .lateral("lead_counts")
    )
    live = (
        select(calls.c.campaign_id, func.count().label("live_calls"))
        .where(LIVE, calls.c.campaign_id.is_not(None))
        .group_by(calls.c.campaign_id)
        .subquery("live")
    )
    query = (
        select(
            campaigns.c.id.label("campaign_id"),
            campaigns.c.name,
            campaigns.c.status,
            campaigns.c.status_reason,
            campaigns.c.started_at,
            campaigns.c.max_concurrent_calls,
            lead_counts.c.leads,
            lead_counts.c.final_leads,
            func.coalesce(live.c.live_calls, 0).label("live_calls"),
        )
        .select_from(
            campaigns.join(lead_counts, true()).outerjoin(live, live.c.campaign_id == campaigns.c.id)
        )
        .where(campaigns.c.status.in_(ACTIVE_CAMPAIGN_STATUSES))
        .order_by(campaigns.c.created_at.desc(), campaigns.c.id.desc())
    )
    if campaign_id is not None:
        query = query.where(campaigns.c.id == campaign_id)
    return [ActiveCampaignRow(**row._mapping) for row in (await session.execute(query)).all()]


async def voices(session: AsyncSession, period: Period) -> list[VoiceRow]:
    """Agent calls placed in the window, by the agent profile they used; most calls first."""
    profile = func.coalesce(calls.c.agent["profile"].astext, "default")
    query = (
        select(
            profile.label("profile"),
            func.count().label("calls"),
            func.count().filter(PERSON_ANSWERED).label("answered"),
            func.count().filter(MEETING_BOOKED).label("meetings_booked"),
            func.avg(DURATION_SECONDS).filter(PERSON_ANSWERED).label("duration"),
            func.avg(calls.c.agent_audio_delay_seconds).label("delay"),
        )
        .where(*_placed_in(period), calls.c.mode == "agent")
        .group_by(profile)
        .order_by(func.count().desc(), profile)
    )
    return [
        VoiceRow(
            row.profile,
            row.calls,
            row.answered,
            row.meetings_booked,
            as_float(row.duration),
            as_float(row.delay),
        )
        for row in (await session.execute(query)).all()
    ]
