"""Dependencies of the call routes: the service (with the request's clock) and the idempotency header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from dialer.calls.service import CallService
from dialer.idempotency.service import StoredResponse
from dialer.policy.clock import ClockDep
from dialplane.api.routes import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_LENGTH
from dialplane.errors import PROBLEM_JSON


async def get_call_service(request: Request, clock: ClockDep) -> CallService:
    return CallService(request.app.state.settings, request.app.state.event_stream, clock)


CallServiceDep = Annotated[CallService, Depends(get_call_service)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="retrying with the same key and body replays the first response",
    ),
]


def json_response(response: StoredResponse) -> JSONResponse:
    headers = dict(response.headers)
    if response.replayed:
        headers["Idempotent-Replayed"] = "true"
    media_type = PROBLEM_JSON if response.status_code >= 400 else "application/json"
    return JSONResponse(
        response.body, status_code=response.status_code, headers=headers, media_type=media_type
    )
