"""The public API's request and response models, shared by the gateway (which declares the public routes) and
the service that implements them (which the gateway forwards to). See docs/calls-api.md."""

from dialplane.api.calls import (
    AgentTarget,
    Call,
    CallEvent,
    CallList,
    CallTimeline,
    CreateCallRequest,
    IvrTarget,
    Lead,
    ListCallsQuery,
)
from dialplane.api.compat import InteractionRequest, InteractionResponse, LegacyCallStatus
from dialplane.api.routes import CALL_ROUTES, IDEMPOTENCY_HEADER, RouteSpec

__all__ = [
    "CALL_ROUTES",
    "IDEMPOTENCY_HEADER",
    "AgentTarget",
    "Call",
    "CallEvent",
    "CallList",
    "CallTimeline",
    "CreateCallRequest",
    "InteractionRequest",
    "InteractionResponse",
    "IvrTarget",
    "Lead",
    "LegacyCallStatus",
    "ListCallsQuery",
    "RouteSpec",
]
