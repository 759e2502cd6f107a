"""Reporting routes (read-only), reached through the gateway with a signed principal header: a campaign's
report (``campaigns:read``) and the analytics (``analytics:read``). Definitions: ``docs/analytics.md``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from dialer.analytics import report, service
from dialer.policy.clock import ClockDep
from dialplane.api.analytics import (
    ACTIVE_CAMPAIGNS,
    CALL_OUTCOMES,
    CAMPAIGN_REPORT,
    LANGUAGES,
    LEAD_STATUSES,
    OVERVIEW,
    RECENT_ACTIVITY,
    VOICES,
    ActiveCampaigns,
    AnalyticsQuery,
    CallOutcomes,
    CampaignFilter,
    CampaignReport,
    Languages,
    LeadStatuses,
    Overview,
    RecentActivity,
    RecentActivityQuery,
    Voices,
)
from dialplane.db import SessionDep
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["analytics"])

CanReadCampaigns = Annotated[Principal, requires("campaigns:read")]
CanReadAnalytics = Annotated[Principal, requires("analytics:read")]
Filters = Annotated[AnalyticsQuery, Query()]
NO_CAMPAIGN: dict[int | str, dict[str, Any]] = {404: {"description": "no such campaign (campaign_not_found)"}}


@router.get(CAMPAIGN_REPORT, response_model=CampaignReport, responses=NO_CAMPAIGN)
async def campaign_report(
    _: CanReadCampaigns, campaign_id: uuid.UUID, session: SessionDep, clock: ClockDep
) -> CampaignReport:
    """The campaign's leads by status and progress, its calls' results, refusals, and 30-day abandon rate."""
    return await report.campaign_report(session, campaign_id, clock())


@router.get(OVERVIEW, response_model=Overview, responses=NO_CAMPAIGN)
async def overview(_: CanReadAnalytics, query: Filters, session: SessionDep, clock: ClockDep) -> Overview:
    """Leads, calls, answers, meetings and conversion in the window; calls live now."""
    return await service.overview(session, query, clock())


@router.get(CALL_OUTCOMES, response_model=CallOutcomes, responses=NO_CAMPAIGN)
async def call_outcomes(
    _: CanReadAnalytics, query: Filters, session: SessionDep, clock: ClockDep
) -> CallOutcomes:
    """Calls placed in the window by final status and by outcome."""
    return await service.call_outcomes(session, query, clock())


@router.get(LANGUAGES, response_model=Languages, responses=NO_CAMPAIGN)
async def languages(_: CanReadAnalytics, query: Filters, session: SessionDep, clock: ClockDep) -> Languages:
    """Leads added and calls placed in the window, by the lead's language."""
    return await service.languages(session, query, clock())


@router.get(LEAD_STATUSES, response_model=LeadStatuses, responses=NO_CAMPAIGN)
async def lead_statuses(
    _: CanReadAnalytics, query: Filters, session: SessionDep, clock: ClockDep
) -> LeadStatuses:
    """Leads added in the window, by their status now."""
    return await service.lead_statuses(session, query, clock())


@router.get(RECENT_ACTIVITY, response_model=RecentActivity, responses=NO_CAMPAIGN)
async def recent_activity(
    _: CanReadAnalytics,
    query: Annotated[RecentActivityQuery, Query()],
    session: SessionDep,
    clock: ClockDep,
) -> RecentActivity:
    """The newest calls placed in the window (numbers masked)."""
    return await service.recent_activity(session, query, clock())


@router.get(ACTIVE_CAMPAIGNS, response_model=ActiveCampaigns, responses=NO_CAMPAIGN)
async def active_campaigns(
    _: CanReadAnalytics, query: Annotated[CampaignFilter, Query()], session: SessionDep
) -> ActiveCampaigns:
    """Running and paused campaigns with their progress and live calls, as they are now."""
    return await service.active_campaigns(session, query)


@router.get(VOICES, response_model=Voices, responses=NO_CAMPAIGN)
async def voices(_: CanReadAnalytics, query: Filters, session: SessionDep, clock: ClockDep) -> Voices:
    """Agent calls placed in the window, by agent profile: answers, meetings, durations, answer delay."""
    return await service.voices(session, query, clock())
