"""Public reporting routes, forwarded to the dialer: a campaign's report (``campaigns:read``) and the
analytics (``analytics:read``). Declared here with the dialer's own models, so bad filters stop at the edge
and the documentation is the same on both sides."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

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
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import requires
from gateway.calls.forward import DialerDep

router = APIRouter(tags=["analytics"])

CanReadCampaigns = Annotated[Principal, requires("campaigns:read")]
CanReadAnalytics = Annotated[Principal, requires("analytics:read")]
Filters = Annotated[AnalyticsQuery, Query()]
NO_CAMPAIGN: dict[int | str, dict[str, Any]] = {404: {"description": "no such campaign (campaign_not_found)"}}


@router.get(
    CAMPAIGN_REPORT,
    response_model=CampaignReport,
    responses=NO_CAMPAIGN,
    tags=["campaigns"],
    summary="A campaign's progress, results, refusals and abandon rate",
)
async def campaign_report(
    campaign_id: UUID, request: Request, principal: CanReadCampaigns, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(OVERVIEW, response_model=Overview, responses=NO_CAMPAIGN, summary="Leads, calls and conversion")
async def overview(
    _query: Filters, request: Request, principal: CanReadAnalytics, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(
    CALL_OUTCOMES, response_model=CallOutcomes, responses=NO_CAMPAIGN, summary="Calls by status and outcome"
)
async def call_outcomes(
    _query: Filters, request: Request, principal: CanReadAnalytics, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(LANGUAGES, response_model=Languages, responses=NO_CAMPAIGN, summary="Leads and calls by language")
async def languages(
    _query: Filters, request: Request, principal: CanReadAnalytics, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(LEAD_STATUSES, response_model=LeadStatuses, responses=NO_CAMPAIGN, summary="Leads by status")
async def lead_statuses(
    _query: Filters, request: Request, principal: CanReadAnalytics, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(RECENT_ACTIVITY, response_model=RecentActivity, responses=NO_CAMPAIGN, summary="The newest calls")
async def recent_activity(
    _query: Annotated[RecentActivityQuery, Query()],
    request: Request,
    principal: CanReadAnalytics,
    dialer: DialerDep,
) -> Response:
    return await dialer.forward(request, principal)


@router.get(
    ACTIVE_CAMPAIGNS,
    response_model=ActiveCampaigns,
    responses=NO_CAMPAIGN,
    summary="Running and paused campaigns, now",
)
async def active_campaigns(
    _query: Annotated[CampaignFilter, Query()],
    request: Request,
    principal: CanReadAnalytics,
    dialer: DialerDep,
) -> Response:
    return await dialer.forward(request, principal)


@router.get(VOICES, response_model=Voices, responses=NO_CAMPAIGN, summary="Results by agent profile")
async def voices(
    _query: Filters, request: Request, principal: CanReadAnalytics, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)
