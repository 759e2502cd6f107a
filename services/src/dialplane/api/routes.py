"""The public routes of the calls API, as data: the gateway declares the same routes from these specs and
forwards them unchanged to the dialer, which serves them (on loopback, behind the signed principal header).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from dialplane.api.calls import Call, CallList, CallTimeline, CreateCallRequest, ListCallsQuery
from dialplane.api.compat import InteractionRequest, InteractionResponse, LegacyCallStatus

API_PREFIX = "/api/v1"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 255
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]+$"  # printable ASCII


@dataclass(frozen=True, slots=True)
class RouteSpec:
    name: str
    method: str
    path: str
    scope: str
    status_code: int
    response: type[BaseModel]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    idempotent_by_key: bool = False  # honours the Idempotency-Key header


CALLS = f"{API_PREFIX}/calls"
CALL = f"{CALLS}/{{id}}"

CREATE_CALL = RouteSpec(
    "create_call", "POST", CALLS, "calls:write", 201, Call, body=CreateCallRequest, idempotent_by_key=True
)
LIST_CALLS = RouteSpec("list_calls", "GET", CALLS, "calls:read", 200, CallList, query=ListCallsQuery)
GET_CALL = RouteSpec("get_call", "GET", CALL, "calls:read", 200, Call)
HANGUP_CALL = RouteSpec("hangup_call", "POST", f"{CALL}/hangup", "calls:write", 202, Call)
CALL_EVENTS = RouteSpec("call_events", "GET", f"{CALL}/events", "calls:read", 200, CallTimeline)
LEGACY_INTERACTION = RouteSpec(
    "legacy_interaction",
    "POST",
    f"{API_PREFIX}/interaction/{{number}}",
    "calls:write",
    200,
    InteractionResponse,
    body=InteractionRequest,
    idempotent_by_key=True,
)
LEGACY_STATUS = RouteSpec(
    "legacy_status", "GET", f"{API_PREFIX}/status/{{call_id}}", "calls:read", 200, LegacyCallStatus
)

CALL_ROUTES = (CREATE_CALL, LIST_CALLS, GET_CALL, HANGUP_CALL, CALL_EVENTS, LEGACY_INTERACTION, LEGACY_STATUS)
