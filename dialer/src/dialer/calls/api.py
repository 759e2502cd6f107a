"""The calls API (``/api/v1/calls``), reached through the gateway with a signed principal header."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from dialer.calls import views
from dialer.calls.dependencies import CallServiceDep, IdempotencyKeyHeader, json_response
from dialer.calls.service import Idempotency, Responder
from dialplane.api.calls import Call, CallEvent, CallList, CallTimeline, CreateCallRequest, ListCallsQuery
from dialplane.api.routes import CALL_EVENTS, CREATE_CALL, GET_CALL, HANGUP_CALL, LIST_CALLS
from dialplane.db import SessionDep
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["calls"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "invalid request, or the call was refused by the dial-time policy (code call_refused)"
    }
}


@router.post(CREATE_CALL.path, status_code=201, response_model=Call, responses=_REFUSED)
async def create_call(
    principal: Annotated[Principal, requires(CREATE_CALL.scope)],
    body: CreateCallRequest,
    request: Request,
    session: SessionDep,
    service: CallServiceDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Place a call: 201 with the queued call, or 422 ``call_refused`` (the refused call is recorded)."""
    respond = Responder(views.created_response, partial(views.refused_response, instance=request.url.path))
    key = None if idempotency_key is None else Idempotency(idempotency_key, CREATE_CALL.name)
    return json_response(await service.create(session, principal, body, respond, key))


@router.get(LIST_CALLS.path, response_model=CallList)
async def list_calls(
    _: Annotated[Principal, requires(LIST_CALLS.scope)],
    query: Annotated[ListCallsQuery, Query()],
    session: SessionDep,
    service: CallServiceDep,
) -> CallList:
    """Calls, newest first, a page at a time (``next_cursor``)."""
    page = await service.list_calls(session, query)
    return CallList(items=[views.call_view(call) for call in page.items], next_cursor=page.next_cursor)


@router.get(GET_CALL.path, response_model=Call)
async def get_call(
    _: Annotated[Principal, requires(GET_CALL.scope)],
    id: uuid.UUID,
    session: SessionDep,
    service: CallServiceDep,
) -> Call:
    return views.call_view(await service.get(session, id))


@router.post(HANGUP_CALL.path, status_code=202, response_model=Call)
async def hangup_call(
    _: Annotated[Principal, requires(HANGUP_CALL.scope)],
    id: uuid.UUID,
    session: SessionDep,
    service: CallServiceDep,
) -> Call:
    """Ask the bridge to end the call (202); 409 if it has already ended."""
    return views.call_view(await service.hangup(session, id))


@router.get(CALL_EVENTS.path, response_model=CallTimeline)
async def call_events(
    _: Annotated[Principal, requires(CALL_EVENTS.scope)],
    id: uuid.UUID,
    session: SessionDep,
    service: CallServiceDep,
) -> CallTimeline:
    """The call's status changes, oldest first."""
    entries = await service.timeline(session, id)
    items = [CallEvent(status=e.status, at=e.at, details=e.details) for e in entries]
    return CallTimeline(call_id=id, items=items)
