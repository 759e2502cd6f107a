"""Public routes of campaigns, their leads and callbacks (``campaigns:*``), declared with the shared models
(:mod:`dialplane.api.campaigns`) and forwarded to the dialer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

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
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import requires
from gateway.calls.forward import DialerDep

router = APIRouter(tags=["campaigns"])

CanRead = Annotated[Principal, requires("campaigns:read")]
CanWrite = Annotated[Principal, requires("campaigns:write")]


@router.post(CAMPAIGNS, status_code=201, response_model=Campaign, summary="Create a campaign (a draft)")
async def create_campaign(
    _body: CreateCampaignRequest, request: Request, principal: CanWrite, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(CAMPAIGNS, response_model=CampaignList, summary="List campaigns, newest first")
async def list_campaigns(
    _query: Annotated[ListCampaignsQuery, Query()], request: Request, principal: CanRead, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(CAMPAIGN, response_model=Campaign, summary="A campaign")
async def get_campaign(
    campaign_id: uuid.UUID, request: Request, principal: CanRead, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.patch(CAMPAIGN, response_model=Campaign, summary="Change a campaign's settings")
async def update_campaign(
    campaign_id: uuid.UUID,
    _body: UpdateCampaignRequest,
    request: Request,
    principal: CanWrite,
    dialer: DialerDep,
) -> Response:
    return await dialer.forward(request, principal)


@router.delete(CAMPAIGN, status_code=204, summary="Delete a campaign that is not running")
async def delete_campaign(
    campaign_id: uuid.UUID, request: Request, principal: CanWrite, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


def _state_route(action: str, summary: str) -> None:
    async def change(
        campaign_id: uuid.UUID,
        request: Request,
        principal: CanWrite,
        dialer: DialerDep,
        _body: StateChange | None = None,
    ) -> Response:
        return await dialer.forward(request, principal)

    change.__name__ = f"{action}_campaign"
    router.post(f"{CAMPAIGN}/{action}", response_model=Campaign, summary=summary)(change)


_state_route("start", "Start dialing (a draft)")
_state_route("pause", "Pause dialing (calls in progress go on)")
_state_route("resume", "Resume a paused campaign")
_state_route("stop", "Stop for good (calls in progress go on)")


@router.post(CAMPAIGN_LEADS, response_model=LeadsAdded, summary="Add leads by id and/or filter")
async def add_campaign_leads(
    campaign_id: uuid.UUID, _body: LeadSelection, request: Request, principal: CanWrite, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(CAMPAIGN_LEADS, response_model=CampaignLeadList, summary="A campaign's leads and their state")
async def list_campaign_leads(
    campaign_id: uuid.UUID,
    _query: Annotated[ListCampaignLeadsQuery, Query()],
    request: Request,
    principal: CanRead,
    dialer: DialerDep,
) -> Response:
    return await dialer.forward(request, principal)


@router.post(CAMPAIGN_CALLBACK, response_model=CampaignLead, summary="Call a lead back at a time")
async def schedule_callback(
    campaign_id: uuid.UUID,
    lead_id: uuid.UUID,
    _body: CallbackRequest,
    request: Request,
    principal: CanWrite,
    dialer: DialerDep,
) -> Response:
    return await dialer.forward(request, principal)
