"""The leads API (``/api/v1/leads``), reached through the gateway with a signed principal header."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from dialer.leads import partner, service
from dialer.leads.views import lead_location, lead_view
from dialplane.api.leads import (
    CONFLICT,
    LEAD,
    LEADS,
    NOT_FOUND,
    PARTNER_REFUSED,
    PARTNER_TRANSFER,
    CreateLeadRequest,
    LeadDetails,
    LeadList,
    ListLeadsQuery,
    PartnerTransferRequest,
    PartnerTransferResponse,
    UpdateLeadRequest,
)
from dialplane.db import SessionDep
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["leads"])

CanRead = Annotated[Principal, requires("leads:read")]
CanWrite = Annotated[Principal, requires("leads:write")]


@router.post(LEADS, status_code=201, response_model=LeadDetails, responses=CONFLICT)
async def create_lead(
    principal: CanWrite, body: CreateLeadRequest, session: SessionDep, response: Response
) -> LeadDetails:
    """Add a lead (``pending``)."""
    lead = await service.create_lead(session, principal, body)
    response.headers["Location"] = lead_location(lead)
    return lead_view(lead)


@router.get(LEADS, response_model=LeadList)
async def list_leads(_: CanRead, query: Annotated[ListLeadsQuery, Query()], session: SessionDep) -> LeadList:
    """Leads, newest first, a page at a time (``next_cursor``)."""
    page = await service.list_leads(session, query)
    return LeadList(items=[lead_view(lead) for lead in page.items], next_cursor=page.next_cursor)


@router.post(
    PARTNER_TRANSFER,
    response_model=PartnerTransferResponse,
    responses=PARTNER_REFUSED,
)
async def partner_transfer(
    principal: CanWrite, body: PartnerTransferRequest, session: SessionDep
) -> PartnerTransferResponse:
    """A partner's batch of leads: each is created, merged into the lead with its phone, or reported
    invalid; all in one transaction."""
    return await partner.transfer(session, principal, body)


@router.get(LEAD, response_model=LeadDetails, responses=NOT_FOUND)
async def get_lead(_: CanRead, lead_id: uuid.UUID, session: SessionDep) -> LeadDetails:
    return lead_view(await service.get_lead(session, lead_id))


@router.patch(LEAD, response_model=LeadDetails, responses=NOT_FOUND | CONFLICT)
async def update_lead(
    _: CanWrite, lead_id: uuid.UUID, body: UpdateLeadRequest, session: SessionDep
) -> LeadDetails:
    """Change the fields given (``null`` clears an optional one)."""
    return lead_view(await service.update_lead(session, lead_id, body))


@router.delete(LEAD, status_code=204, response_class=Response, responses=NOT_FOUND | CONFLICT)
async def delete_lead(_: CanWrite, lead_id: uuid.UUID, session: SessionDep) -> Response:
    """Delete a lead and its campaign memberships."""
    await service.delete_lead(session, lead_id)
    return Response(status_code=204)
