"""Models of the endpoints kept for clients of the original single-call service.

``POST /api/v1/interaction/{number}`` places an IVR call and ``GET /api/v1/status/{call_id}`` reports it, with
the field names and meanings of that service: ``timeout`` is in **milliseconds** there, and every body field
is optional (configured defaults apply).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dialplane.api.calls import DialplanName, PhoneNumber
from dialplane.calls import CallStatus

LegacyNumber = Annotated[str, StringConstraints(min_length=7, max_length=20, pattern=r"^\+?[0-9]+$")]
"""The path number of ``/interaction/{number}``: digits with an optional leading ``+`` (added if missing)."""


class InteractionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    context: DialplanName | None = None
    extension: DialplanName | None = None
    priority: int | None = Field(default=None, ge=1, le=1_000_000)
    timeout: int | None = Field(default=None, gt=0, le=600_000, description="ring time in milliseconds")
    caller_id: PhoneNumber | None = None


class InteractionResponse(BaseModel):
    success: bool
    call_id: UUID
    phone_number: str
    message: str
    channel: str | None
    status: CallStatus
    created_at: datetime


class LegacyCallStatus(BaseModel):
    call_id: UUID
    phone_number: str
    status: CallStatus
    channel: str | None
    context: str | None
    extension: str | None
    caller_id: str | None
    created_at: datetime
    dialed_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None = Field(description="whole seconds from answer to end")
    failure_reason: str | None
    attempt_number: int
    is_active: bool
    is_completed: bool
