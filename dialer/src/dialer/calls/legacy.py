"""The endpoints of the original single-call service, on top of the calls service.

``POST /api/v1/interaction/{number}`` places an IVR call (body fields optional: configured defaults;
``timeout`` in milliseconds, rounded up to whole seconds) and answers 200 as that service did;
``GET /api/v1/status/{call_id}`` reports it with that service's fields. Errors name that service's fields.
"""

from __future__ import annotations

import math
import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from dialer.calls import views
from dialer.calls.dependencies import CallServiceDep, IdempotencyKeyHeader, json_response
from dialer.calls.repository import CallRecord
from dialer.calls.service import Idempotency, Responder
from dialer.errors import renamed_fields
from dialer.idempotency.service import StoredResponse
from dialer.settings import Settings
from dialplane.api.calls import CreateCallRequest
from dialplane.api.compat import InteractionRequest, InteractionResponse, LegacyCallStatus, LegacyNumber
from dialplane.api.routes import LEGACY_INTERACTION, LEGACY_STATUS
from dialplane.db import SessionDep
from dialplane.errors import ValidationFailed, validation_errors
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["compatibility"])

FIELD_NAMES = {
    "to": "number",
    "from": "caller_id",
    "ivr.context": "context",
    "ivr.extension": "extension",
    "ivr.priority": "priority",
}


@router.post(LEGACY_INTERACTION.path, response_model=InteractionResponse)
async def interaction(
    principal: Annotated[Principal, requires(LEGACY_INTERACTION.scope)],
    number: Annotated[LegacyNumber, Path()],
    request: Request,
    session: SessionDep,
    service: CallServiceDep,
    body: Annotated[InteractionRequest | None, Body()] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Place an IVR call to ``number``; 422 ``call_refused`` if the dial-time policy refuses it."""
    settings: Settings = request.app.state.settings
    accepted = partial(_accepted, settings=settings)
    respond = Responder(accepted, partial(views.refused_response, instance=request.url.path))
    key = None if idempotency_key is None else Idempotency(idempotency_key, LEGACY_INTERACTION.name)
    with renamed_fields(FIELD_NAMES):
        create = _create_request(number, body or InteractionRequest(), settings)
        return json_response(await service.create(session, principal, create, respond, key))


@router.get(LEGACY_STATUS.path, response_model=LegacyCallStatus)
async def status(
    _: Annotated[Principal, requires(LEGACY_STATUS.scope)],
    call_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    service: CallServiceDep,
) -> LegacyCallStatus:
    return views.legacy_status(await service.get(session, call_id), request.app.state.settings)


def _accepted(call: CallRecord, settings: Settings) -> StoredResponse:
    return StoredResponse(200, views.interaction_response(call, settings).model_dump(mode="json"))


def _create_request(number: str, body: InteractionRequest, settings: Settings) -> CreateCallRequest:
    values = {
        "to": number if number.startswith("+") else f"+{number}",
        "from": body.caller_id,
        "ivr": {
            "context": body.context or settings.legacy_default_context,
            "extension": body.extension or settings.legacy_default_extension,
            "priority": body.priority or settings.legacy_default_priority,
        },
        "timeout": math.ceil(body.timeout / 1000) if body.timeout else None,
    }
    try:
        return CreateCallRequest.model_validate(values)
    except ValidationError as exc:
        errors = validation_errors(exc.errors(include_url=False))
        fields = ", ".join(sorted({e["field"] for e in errors}))
        raise ValidationFailed(f"Invalid request: {fields}", extra={"errors": errors}) from exc
