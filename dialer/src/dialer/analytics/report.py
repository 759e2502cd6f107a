"""A campaign's report: where its leads stand, what its calls achieved, what the policy refused, and its
rolling abandon rate against its limit. Read-only; five aggregate queries, whatever the campaign's size."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.analytics import report_repository as repository
from dialer.analytics.expressions import counts, ratio
from dialplane.api.analytics import (
    ABANDON_WINDOW,
    AbandonRate,
    CampaignReport,
    LeadStatusCounts,
    RefusalCounts,
    ReportCalls,
    ReportLeads,
    ReportRefusals,
)
from dialplane.errors import NotFound


def campaign_not_found(campaign_id: uuid.UUID) -> NotFound:
    return NotFound(f"no campaign with id {campaign_id}", code="campaign_not_found")


async def campaign_report(session: AsyncSession, campaign_id: uuid.UUID, now: dt.datetime) -> CampaignReport:
    heading = await repository.heading(session, campaign_id)
    if heading is None:
        raise campaign_not_found(campaign_id)
    abandoned, answered = await repository.abandon_rate(session, campaign_id, now)
    refusals = await repository.refusals_by_rule(session, campaign_id)
    return CampaignReport(
        campaign_id=heading.id,
        name=heading.name,
        status=heading.status,
        status_reason=heading.status_reason,
        generated_at=now,
        leads=await _leads(session, campaign_id),
        calls=await _calls(session, campaign_id),
        abandon_rate=AbandonRate(
            window_days=ABANDON_WINDOW.days,
            abandoned=abandoned,
            answered=answered,
            rate=ratio(abandoned, answered),
            limit=heading.abandon_rate_limit,
        ),
        refusals=ReportRefusals(total=sum(refusals.values()), by_rule=counts(RefusalCounts, refusals)),
    )


async def _leads(session: AsyncSession, campaign_id: uuid.UUID) -> ReportLeads:
    tally = await repository.lead_tally(session, campaign_id)
    return ReportLeads(
        total=tally.total,
        by_status=counts(LeadStatusCounts, tally.by_status),
        final=tally.final,
        progress=ratio(tally.final, tally.total),
    )


async def _calls(session: AsyncSession, campaign_id: uuid.UUID) -> ReportCalls:
    tally = await repository.call_tally(session, campaign_id)
    return ReportCalls(
        attempts=tally.attempts,
        answered=tally.answered,
        answer_rate=ratio(tally.answered, tally.attempts),
        abandoned=tally.abandoned,
        meetings_booked=tally.meetings_booked,
        average_agent_audio_delay_seconds=tally.average_agent_audio_delay_seconds,
    )
