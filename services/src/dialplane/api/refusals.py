"""Public models of the dial refusals (``/api/v1/dial-refusals``): every dial that a rule refused — a call
asked for through the API or a campaign's dial — with the rule, the reason and the time."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from dialplane.api.calls import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Moment, RefusalRule

DIAL_REFUSALS = "/api/v1/dial-refusals"


class DialRefusal(BaseModel):
    id: int
    at: datetime
    rule: RefusalRule
    reason: str
    number: str = Field(
        description="the number refused; masked (+1*******23) unless the caller has do_not_call:read or admin"
    )
    campaign_id: UUID | None = Field(description="the campaign whose dial was refused; null: an API call")
    lead_id: UUID | None
    call_id: UUID | None = Field(description="the call recorded as refused (API calls)")


class DialRefusalList(BaseModel):
    items: list[DialRefusal] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page; null at the end")


class ListDialRefusalsQuery(BaseModel):
    """Query of ``GET /api/v1/dial-refusals``: newest first."""

    campaign_id: UUID | None = None
    lead_id: UUID | None = None
    rule: list[RefusalRule] | None = Field(
        default=None, description="any of these rules (repeat the parameter)"
    )
    since: Moment | None = Field(default=None, description="refused at or after")
    until: Moment | None = Field(default=None, description="refused before")
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)
