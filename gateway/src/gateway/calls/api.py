"""The public calls API: declared here (so it is validated and documented at the edge, with the dialer's
own models), authenticated and scope-checked, then forwarded to the dialer, which owns calls."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response

from dialplane.api.calls import Call, CallList, CallTimeline, CreateCallRequest, ListCallsQuery
from dialplane.api.compat import InteractionRequest, InteractionResponse, LegacyCallStatus
from dialplane.api.routes import MAX_IDEMPOTENCY_KEY_LENGTH
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import requires
from gateway.calls.forward import DialerDep

router = APIRouter(prefix="/api/v1", tags=["calls"])

CanRead = Annotated[Principal, requires("calls:read")]
CanWrite = Annotated[Principal, requires("calls:write")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
        description="the same key with the same body replays the first response; with another body: 422",
    ),
]


@router.post("/calls", status_code=201, response_model=Call, summary="Place a call")
async def create_call(
    _body: CreateCallRequest,
    request: Request,
    principal: CanWrite,
    dialer: DialerDep,
    _idempotency_key: IdempotencyKey = None,
) -> Response:
    return await dialer.forward(request, principal)


@router.get("/calls", response_model=CallList, summary="List calls, newest first")
async def list_calls(
    _query: Annotated[ListCallsQuery, Query()], request: Request, principal: CanRead, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get("/calls/{call_id}", response_model=Call, summary="A call's status and details")
async def get_call(call_id: UUID, request: Request, principal: CanRead, dialer: DialerDep) -> Response:
    return await dialer.forward(request, principal)


@router.post("/calls/{call_id}/hangup", status_code=202, response_model=Call, summary="Hang up a call")
async def hangup_call(call_id: UUID, request: Request, principal: CanWrite, dialer: DialerDep) -> Response:
    return await dialer.forward(request, principal)


@router.get("/calls/{call_id}/events", response_model=CallTimeline, summary="A call's timeline")
async def call_events(call_id: UUID, request: Request, principal: CanRead, dialer: DialerDep) -> Response:
    return await dialer.forward(request, principal)


@router.post(
    "/interaction/{number}",
    response_model=InteractionResponse,
    tags=["compatibility"],
    summary="Place an IVR call (the original single-call service's endpoint)",
)
async def legacy_interaction(
    number: str,
    _body: InteractionRequest,
    request: Request,
    principal: CanWrite,
    dialer: DialerDep,
    _idempotency_key: IdempotencyKey = None,
) -> Response:
    return await dialer.forward(request, principal)


@router.get(
    "/status/{call_id}",
    response_model=LegacyCallStatus,
    tags=["compatibility"],
    summary="A call's status (the original single-call service's endpoint)",
)
async def legacy_status(call_id: str, request: Request, principal: CanRead, dialer: DialerDep) -> Response:
    return await dialer.forward(request, principal)
