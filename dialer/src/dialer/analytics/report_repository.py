"""All SQL of a campaign's report: its leads by status, its calls, its refusals, and the rolling abandon rate
(:func:`abandon_rate`, which the campaign runner also reads to pause a campaign before it breaks its limit).

Each figure is one aggregate query on the campaign's rows (``campaign_leads`` by its primary key, ``calls``
by ``calls_by_campaign``, ``dial_refusals`` by ``dial_refusals_by_campaign``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.analytics.expressions import MEETING_BOOKED, PERSON_ANSWERED, PLACED, as_float, final_lead
from dialer.tables import calls, campaign_leads, campaigns, dial_refusals
from dialplane.api.analytics import ABANDON_WINDOW
from dialplane.api.campaigns import CampaignStatus


@dataclass(frozen=True, slots=True)
class CampaignHeading:
    id: uuid.UUID
    name: str
    status: CampaignStatus
    status_reason: str | None
    abandon_rate_limit: float


@dataclass(frozen=True, slots=True)
class LeadTally:
    by_status: dict[str, int]
    final: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True, slots=True)
class CallTally:
    attempts: int
    answered: int
    abandoned: int
    meetings_booked: int
    average_agent_audio_delay_seconds: float | None


async def heading(session: AsyncSession, campaign_id: uuid.UUID) -> CampaignHeading | None:
    query = select(
        campaigns.c.id,
        campaigns.c.name,
        campaigns.c.status,
        campaigns.c.status_reason,
        campaigns.c.abandon_rate_limit,
    ).where(campaigns.c.id == campaign_id)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else CampaignHeading(**row._mapping)


async def lead_tally(session: AsyncSession, campaign_id: uuid.UUID) -> LeadTally:
    query = (
        select(
            campaign_leads.c.status,
            func.count().label("leads"),
            func.count().filter(final_lead(campaign_leads)).label("final"),
        )
        .where(campaign_leads.c.campaign_id == campaign_id)
        .group_by(campaign_leads.c.status)
    )
    rows = (await session.execute(query)).all()
    return LeadTally({row.status: row.leads for row in rows}, sum(row.final for row in rows))


async def call_tally(session: AsyncSession, campaign_id: uuid.UUID) -> CallTally:
    query = select(
        func.count().filter(PLACED).label("attempts"),
        func.count().filter(PERSON_ANSWERED).label("answered"),
        func.count().filter(calls.c.abandoned).label("abandoned"),
        func.count().filter(MEETING_BOOKED).label("meetings_booked"),
        func.avg(calls.c.agent_audio_delay_seconds).label("delay"),
    ).where(calls.c.campaign_id == campaign_id)
    row = (await session.execute(query)).one()
    return CallTally(row.attempts, row.answered, row.abandoned, row.meetings_booked, as_float(row.delay))


async def refusals_by_rule(session: AsyncSession, campaign_id: uuid.UUID) -> dict[str, int]:
    query = (
        select(dial_refusals.c.rule, func.count().label("refusals"))
        .where(dial_refusals.c.campaign_id == campaign_id)
        .group_by(dial_refusals.c.rule)
    )
    return {row.rule: row.refusals for row in (await session.execute(query)).all()}


async def abandon_rate(session: AsyncSession, campaign_id: uuid.UUID, now: dt.datetime) -> tuple[int, int]:
    """``(abandoned, answered)`` among the campaign's calls placed in the 30 days before ``now``
    (``created_at`` after ``now - 30 days``, an index range of ``calls_by_campaign``, cheap enough for the
    runner's every round): the person-answered calls (answered, not by a machine), and those of them marked
    abandoned. The rate is their quotient (at most 1), 0 when nothing was answered."""
    placed_in_window = calls.c.created_at > now - ABANDON_WINDOW
    query = select(
        func.count().filter(PERSON_ANSWERED & calls.c.abandoned).label("abandoned"),
        func.count().filter(PERSON_ANSWERED).label("answered"),
    ).where(calls.c.campaign_id == campaign_id, placed_in_window)
    row = (await session.execute(query)).one()
    return int(row.abandoned), int(row.answered)
