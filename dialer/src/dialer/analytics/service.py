"""The analytics: the window a request asks for (default: the 30 days up to now), then the figures over the
calls placed and the leads added in it, as the public models (``dialplane.api.analytics``) show them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.analytics import repository
from dialer.analytics.expressions import counts, ratio
from dialer.analytics.report import campaign_not_found
from dialer.analytics.repository import Period
from dialer.errors import invalid_field
from dialplane.api.analytics import (
    DEFAULT_WINDOW,
    ActiveCampaign,
    ActiveCampaigns,
    AnalyticsQuery,
    CallOutcomes,
    CallStatusCounts,
    CampaignFilter,
    LanguageFigures,
    Languages,
    LeadStatusCounts,
    LeadStatuses,
    OutcomeCounts,
    Overview,
    RecentActivity,
    RecentActivityQuery,
    RecentCall,
    VoiceFigures,
    Voices,
    Window,
)
from dialplane.log import mask_number


async def overview(session: AsyncSession, query: AnalyticsQuery, now: dt.datetime) -> Overview:
    period = await _period(session, query, now)
    summary = await repository.call_summary(session, period)
    leads = await repository.leads_by_status(session, period)
    return Overview(
        window=_window(period),
        leads=sum(leads.values()),
        calls=summary.calls,
        answered_calls=summary.answered,
        answer_rate=ratio(summary.answered, summary.calls),
        meetings_booked=summary.meetings_booked,
        conversion_rate=ratio(summary.meetings_booked, summary.answered),
        average_duration_seconds=summary.average_duration_seconds,
        active_calls=await repository.live_calls(session, period.campaign_id),
    )


async def call_outcomes(session: AsyncSession, query: AnalyticsQuery, now: dt.datetime) -> CallOutcomes:
    period = await _period(session, query, now)
    by_status: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for status, outcome, calls in await repository.calls_by_status_and_outcome(session, period):
        shown = status if status in CallStatusCounts.model_fields else "in_progress"
        by_status[shown] = by_status.get(shown, 0) + calls
        if outcome is not None:
            by_outcome[outcome] = by_outcome.get(outcome, 0) + calls
    return CallOutcomes(
        window=_window(period),
        calls=sum(by_status.values()),
        by_status=counts(CallStatusCounts, by_status),
        by_outcome=counts(OutcomeCounts, by_outcome),
    )


async def languages(session: AsyncSession, query: AnalyticsQuery, now: dt.datetime) -> Languages:
    period = await _period(session, query, now)
    leads = await repository.leads_by_language(session, period)
    calls = await repository.calls_by_language(session, period)
    items = [
        LanguageFigures(
            language=language,
            leads=leads.get(language, 0),
            calls=calls[language].calls if language in calls else 0,
            meetings_booked=calls[language].meetings_booked if language in calls else 0,
        )
        for language in leads.keys() | calls.keys()
    ]
    items.sort(key=lambda item: (-(item.leads + item.calls), item.language is None, item.language or ""))
    return Languages(window=_window(period), items=items)


async def lead_statuses(session: AsyncSession, query: AnalyticsQuery, now: dt.datetime) -> LeadStatuses:
    period = await _period(session, query, now)
    by_status = await repository.leads_by_status(session, period)
    return LeadStatuses(
        window=_window(period), total=sum(by_status.values()), by_status=counts(LeadStatusCounts, by_status)
    )


async def recent_activity(
    session: AsyncSession, query: RecentActivityQuery, now: dt.datetime
) -> RecentActivity:
    period = await _period(session, query, now)
    rows = await repository.recent_calls(session, period, query.limit)
    items = [
        RecentCall(
            call_id=row.call_id,
            campaign_id=row.campaign_id,
            campaign_name=row.campaign_name,
            lead_id=row.lead_id,
            to=mask_number(row.to_number),
            status=row.status,
            answered_by=row.answered_by,
            outcome=row.outcome,
            created_at=row.created_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            duration_seconds=row.duration_seconds,
        )
        for row in rows
    ]
    return RecentActivity(window=_window(period), items=items)


async def active_campaigns(session: AsyncSession, query: CampaignFilter) -> ActiveCampaigns:
    if query.campaign_id is not None and not await repository.campaign_exists(session, query.campaign_id):
        raise campaign_not_found(query.campaign_id)
    rows = await repository.active_campaigns(session, query.campaign_id)
    items = [
        ActiveCampaign(
            campaign_id=row.campaign_id,
            name=row.name,
            status=row.status,
            status_reason=row.status_reason,
            started_at=row.started_at,
            leads=row.leads,
            final_leads=row.final_leads,
            progress=ratio(row.final_leads, row.leads),
            live_calls=row.live_calls,
            max_concurrent_calls=row.max_concurrent_calls,
        )
        for row in rows
    ]
    return ActiveCampaigns(items=items)


async def voices(session: AsyncSession, query: AnalyticsQuery, now: dt.datetime) -> Voices:
    period = await _period(session, query, now)
    items = [
        VoiceFigures(
            profile=row.profile,
            calls=row.calls,
            answered_calls=row.answered,
            meetings_booked=row.meetings_booked,
            conversion_rate=ratio(row.meetings_booked, row.answered),
            average_duration_seconds=row.average_duration_seconds,
            average_agent_audio_delay_seconds=row.average_agent_audio_delay_seconds,
        )
        for row in await repository.voices(session, period)
    ]
    return Voices(window=_window(period), items=items)


async def _period(session: AsyncSession, query: AnalyticsQuery, now: dt.datetime) -> Period:
    """The window asked for: ``until`` defaults to now, ``since`` to 30 days before ``until``; 422 if it is
    empty, 404 if the campaign does not exist."""
    until = query.until or now
    since = query.since or until - DEFAULT_WINDOW
    if since >= until:
        raise invalid_field("query.since", "since must be before until (which defaults to now)")
    if query.campaign_id is not None and not await repository.campaign_exists(session, query.campaign_id):
        raise campaign_not_found(query.campaign_id)
    return Period(since, until, query.campaign_id)


def _window(period: Period) -> Window:
    return Window(since=period.since, until=period.until, campaign_id=period.campaign_id)
