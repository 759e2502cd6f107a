"""The campaigns API (``/api/v1/campaigns``), reached through the gateway with a signed principal header."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from dialer.campaigns import service
from dialer.campaigns.views import CAMPAIGNS_PATH, campaign_lead_view, campaign_view
from dialer.policy.clock import ClockDep
from dialplane.api.campaigns import (
    CAMPAIGN,
    CAMPAIGN_CALLBACK,
    CAMPAIGN_LEADS,
    CAMPAIGNS,
    CallbackRequest,
    Campaign,
    CampaignLead,
    CampaignLeadList,
    CampaignList,
    CreateCampaignRequest,
    LeadsAdded,
    LeadSelection,
    ListCampaignLeadsQuery,
    ListCampaignsQuery,
    StateChange,
    UpdateCampaignRequest,
)
from dialplane.db import SessionDep
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["campaigns"])

CanRead = Annotated[Principal, requires("campaigns:read")]
CanWrite = Annotated[Principal, requires("campaigns:write")]


@router.post(CAMPAIGNS, status_code=201, response_model=Campaign)
async def create_campaign(
    principal: CanWrite, body: CreateCampaignRequest, session: SessionDep, response: Response, clock: ClockDep
) -> Campaign:
    """A draft campaign (with the leads selected, if any); start it with ``POST .../start``."""
    campaign = await service.create(session, principal, body, clock())
    response.headers["Location"] = f"{CAMPAIGNS_PATH}/{campaign.id}"
    return campaign_view(campaign)


@router.get(CAMPAIGNS, response_model=CampaignList)
async def list_campaigns(
    _: CanRead, query: Annotated[ListCampaignsQuery, Query()], session: SessionDep
) -> CampaignList:
    page = await service.list_campaigns(session, query)
    return CampaignList(items=[campaign_view(c) for c in page.items], next_cursor=page.next_cursor)


@router.get(CAMPAIGN, response_model=Campaign)
async def get_campaign(_: CanRead, campaign_id: uuid.UUID, session: SessionDep) -> Campaign:
    return campaign_view(await service.get(session, campaign_id))


@router.patch(CAMPAIGN, response_model=Campaign)
async def update_campaign(
    _: CanWrite, campaign_id: uuid.UUID, body: UpdateCampaignRequest, session: SessionDep
) -> Campaign:
    """Change settings (also while running: the runner reads them at each round); 409 once ended."""
    return campaign_view(await service.update(session, campaign_id, body))


@router.delete(CAMPAIGN, status_code=204)
async def delete_campaign(_: CanWrite, campaign_id: uuid.UUID, session: SessionDep) -> Response:
    """Delete a draft, stopped or completed campaign (its calls stay); 409 while running or paused."""
    await service.delete(session, campaign_id)
    return Response(status_code=204)


def _state_route(action: str, summary: str) -> None:
    async def change(
        _: CanWrite, campaign_id: uuid.UUID, session: SessionDep, body: StateChange | None = None
    ) -> Campaign:
        reason = body.reason if body else None
        return campaign_view(await service.change_state(session, campaign_id, action, reason))

    change.__name__ = f"{action}_campaign"
    router.post(f"{CAMPAIGN}/{action}", response_model=Campaign, summary=summary)(change)


_state_route("start", "Start dialing (a draft)")
_state_route("pause", "Pause dialing (calls in progress go on)")
_state_route("resume", "Resume a paused campaign")
_state_route("stop", "Stop for good (calls in progress go on)")


@router.post(CAMPAIGN_LEADS, response_model=LeadsAdded)
async def add_campaign_leads(
    _: CanWrite, campaign_id: uuid.UUID, body: LeadSelection, session: SessionDep, clock: ClockDep
) -> LeadsAdded:
    """Add leads by id and/or by filter; leads already in the campaign are left as they are."""
    return LeadsAdded(added=await service.add_leads(session, campaign_id, body, clock()))


@router.get(CAMPAIGN_LEADS, response_model=CampaignLeadList)
async def list_campaign_leads(
    _: CanRead,
    campaign_id: uuid.UUID,
    query: Annotated[ListCampaignLeadsQuery, Query()],
    session: SessionDep,
) -> CampaignLeadList:
    page = await service.list_leads(session, campaign_id, query)
    return CampaignLeadList(items=[campaign_lead_view(r) for r in page.items], next_cursor=page.next_cursor)


@router.post(CAMPAIGN_CALLBACK, response_model=CampaignLead)
async def schedule_callback(
    _: CanWrite, campaign_id: uuid.UUID, lead_id: uuid.UUID, body: CallbackRequest, session: SessionDep
) -> CampaignLead:
    """Call the lead back at a time (inside the calling hours: else at their next opening)."""
    return campaign_lead_view(await service.schedule_callback(session, campaign_id, lead_id, body))
