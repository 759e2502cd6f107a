"""Public models of the leads API (``/api/v1/leads``): the people campaigns call, and the partner transfer
through which a partner's system hands leads over.

These models check the *shape* of a request (types, lengths, character sets). The dialer, which serves the
routes, normalises the phone to E.164, checks the time zone exists and answers 422 naming the field in the
same way; the gateway declares the same routes with these models and forwards them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from dialplane.api.calls import (
    DEFAULT_LIST_LIMIT,
    MAX_LIST_LIMIT,
    Moment,
    PhoneNumber,
    Text,
    TimeZoneName,
    _storable,
)
from dialplane.api.routes import API_PREFIX

LEADS = f"{API_PREFIX}/leads"
LEAD = f"{LEADS}/{{lead_id}}"
PARTNER_TRANSFER = f"{LEADS}/partner-transfer"

Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "no such lead (code lead_not_found)"}}
CONFLICT: Responses = {
    409: {"description": "lead_exists (another lead has the phone; its lead_id is given), or lead_busy"}
}
PARTNER_REFUSED: Responses = {
    403: {"description": "not an API key (code api_key_required), or no leads:write"},
    429: {"description": "more partner transfers per minute than the gateway allows (Retry-After)"},
}

MAX_TEXT = 200
MAX_CUSTOM_FIELDS_BYTES = 16_384
MAX_PARTNER_BATCH = 500

LeadStatus = Literal[
    "pending",
    "queued",
    "calling",
    "contacted",
    "meeting_scheduled",
    "not_interested",
    "callback",
    "no_answer",
    "do_not_call",
    "failed",
    "exhausted",
]
"""Where a lead stands. ``queued`` and ``calling`` are set by the dialer while a call is being placed."""
LEAD_STATUSES: tuple[LeadStatus, ...] = get_args(LeadStatus)
BUSY_STATUSES: frozenset[LeadStatus] = frozenset({"queued", "calling"})

OperatorStatus = Literal[
    "pending",
    "contacted",
    "meeting_scheduled",
    "not_interested",
    "callback",
    "no_answer",
    "do_not_call",
    "failed",
    "exhausted",
]
"""The statuses a person may set (every status but ``queued`` and ``calling``, which only the dialer sets)."""

TimeZoneSource = Literal["lead", "number"]

LeadText = Annotated[Text, StringConstraints(max_length=MAX_TEXT)]
Email = Annotated[Text, StringConstraints(max_length=MAX_TEXT, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
LanguageTag = Annotated[str, StringConstraints(max_length=35, pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")]


def _custom_fields(value: dict[str, Any]) -> dict[str, Any]:
    _storable(value)
    if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_CUSTOM_FIELDS_BYTES:
        raise ValueError(f"custom_fields is larger than {MAX_CUSTOM_FIELDS_BYTES} bytes as JSON")
    return value


CustomFields = Annotated[dict[str, Any], AfterValidator(_custom_fields)]
"""Free JSON object (string keys), at most 16 KiB."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _LeadFields(_Strict):
    phone: PhoneNumber = Field(description="international form (+…); stored as E.164")
    name: LeadText | None = None
    email: Email | None = None
    timezone: TimeZoneName | None = Field(
        default=None, description="IANA zone; default: the number's zone when it has exactly one"
    )
    language: LanguageTag | None = Field(default=None, description="a language tag such as en or en-US")
    consent: bool | None = Field(default=None, description="the lead agreed to be called (default false)")
    consent_source: LeadText | None = Field(default=None, description="where the consent was given")
    consent_at: Moment | None = Field(default=None, description="when the consent was given")
    custom_fields: CustomFields = Field(default_factory=dict, description="free JSON object, at most 16 KiB")


class CreateLeadRequest(_LeadFields):
    """``POST /api/v1/leads``: a new lead (``pending``); 409 ``lead_exists`` if its phone is known."""

    partner: LeadText | None = Field(default=None, description="who brought the lead")


class PartnerLead(_LeadFields):
    """One lead of a partner transfer: the partner is the API key that sends it. A lead whose phone is known
    is merged: the fields given overwrite the stored ones, custom fields key by key."""


class UpdateLeadRequest(_Strict):
    """``PATCH /api/v1/leads/{id}``: the fields given change; ``null`` clears an optional field.
    ``custom_fields`` is replaced as a whole."""

    phone: PhoneNumber | None = None
    name: LeadText | None = None
    email: Email | None = None
    timezone: TimeZoneName | None = None
    language: LanguageTag | None = None
    consent: bool | None = None
    consent_source: LeadText | None = None
    consent_at: Moment | None = None
    partner: LeadText | None = None
    status: OperatorStatus | None = Field(default=None, description="not queued or calling")
    custom_fields: CustomFields | None = None

    @field_validator("phone", "consent", "status", "custom_fields")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class LeadDetails(BaseModel):
    """A lead as the API shows it."""

    id: UUID
    phone: str = Field(description="E.164")
    name: str | None
    email: str | None
    timezone: str | None = Field(description="the effective zone: the lead's own, else its number's")
    timezone_source: TimeZoneSource | None = Field(
        description="lead: given for the lead; number: the number's only zone; null: not known"
    )
    number_timezones: list[str] = Field(description="the zones libphonenumber gives the number")
    language: str | None
    consent: bool
    consent_source: str | None
    consent_at: datetime | None
    partner: str | None
    status: LeadStatus
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class LeadList(BaseModel):
    items: list[LeadDetails]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page; null at the end")


class ListLeadsQuery(BaseModel):
    """Query of ``GET /api/v1/leads``: newest first."""

    status: list[LeadStatus] | None = None
    partner: Text | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    language: LanguageTag | None = None
    consent: bool | None = None
    phone: Text | None = Field(
        default=None, min_length=1, max_length=32, description="any international form; matched as E.164"
    )
    q: Text | None = Field(
        default=None, min_length=1, max_length=MAX_TEXT, description="part of the name or email, any case"
    )
    campaign_id: UUID | None = Field(default=None, description="leads of this campaign")
    created_after: Moment | None = None
    created_before: Moment | None = None
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)


class PartnerTransferRequest(_Strict):
    """``POST /api/v1/leads/partner-transfer``: each lead is checked on its own (see :class:`PartnerLead`)."""

    leads: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_PARTNER_BATCH,
        description=f"up to {MAX_PARTNER_BATCH} lead objects with the fields of PartnerLead",
    )


class LeadError(BaseModel):
    field: str = Field(description="the lead's field, a dotted path; 'lead' for the lead as a whole")
    message: str


class PartnerTransferResult(BaseModel):
    index: int = Field(description="position of the lead in the request, from 0")
    status: Literal["created", "merged", "invalid"]
    lead_id: UUID | None = Field(description="null when invalid")
    errors: list[LeadError]


class PartnerTransferResponse(BaseModel):
    results: list[PartnerTransferResult] = Field(description="one per lead, in the request's order")
    created: int
    merged: int
    invalid: int
