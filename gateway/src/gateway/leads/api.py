"""The public leads API: declared here with the dialer's own models (so it is validated and documented at
the edge), authenticated and scope-checked, then forwarded to the dialer, which owns leads. The partner
transfer is for API keys only and has a rate limit of its own (:mod:`gateway.leads.partner`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

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
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import requires
from gateway.calls.forward import DialerDep
from gateway.leads.partner import PartnerKey

router = APIRouter(tags=["leads"])

CanRead = Annotated[Principal, requires("leads:read")]
CanWrite = Annotated[Principal, requires("leads:write")]


@router.post(LEADS, status_code=201, response_model=LeadDetails, responses=CONFLICT, summary="Add a lead")
async def create_lead(
    _body: CreateLeadRequest, request: Request, principal: CanWrite, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(LEADS, response_model=LeadList, summary="List leads, newest first")
async def list_leads(
    _query: Annotated[ListLeadsQuery, Query()], request: Request, principal: CanRead, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.post(
    PARTNER_TRANSFER,
    response_model=PartnerTransferResponse,
    responses=PARTNER_REFUSED,
    summary="Hand over a partner's batch of leads (API keys only)",
)
async def partner_transfer(
    _body: PartnerTransferRequest, request: Request, principal: PartnerKey, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(LEAD, response_model=LeadDetails, responses=NOT_FOUND, summary="A lead")
async def get_lead(lead_id: UUID, request: Request, principal: CanRead, dialer: DialerDep) -> Response:
    return await dialer.forward(request, principal)


@router.patch(
    LEAD, response_model=LeadDetails, responses=NOT_FOUND | CONFLICT, summary="Change a lead's fields"
)
async def update_lead(
    lead_id: UUID, _body: UpdateLeadRequest, request: Request, principal: CanWrite, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.delete(
    LEAD,
    status_code=204,
    response_class=Response,
    responses=NOT_FOUND | CONFLICT,
    summary="Delete a lead",
)
async def delete_lead(lead_id: UUID, request: Request, principal: CanWrite, dialer: DialerDep) -> Response:
    return await dialer.forward(request, principal)
