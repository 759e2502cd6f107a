"""Public request and response models of the calls API (``/api/v1/calls``).

These models check the *shape* of a request (types, lengths, character sets). Checks that need data the
gateway's image does not ship (the numbering plan, the time-zone database) and the configurable limits
(the shortest ring timeout) are made by the dialer, which answers 422 naming the field in the same way.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import (
    AfterValidator,
    AnyUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    UrlConstraints,
    ValidationInfo,
    field_validator,
)

from dialplane.calls import AnsweredBy, CallStatus

MAX_METADATA_BYTES = 16_384
MAX_JSON_DEPTH = 32  # free JSON (metadata, custom fields): deeper nesting is refused
MAX_VARIABLES = 50
MAX_RING_TIMEOUT_SECONDS = 600
MAX_CALL_DURATION_SECONDS = 86_400
DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 100


def _e164_digits(value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    if not 7 <= digits <= 15:
        raise ValueError(f"an E.164 number has 7 to 15 digits, this one has {digits}")
    return value


def storable_text(value: str) -> str:
    """Text PostgreSQL can store: no NUL characters, valid Unicode (no lone surrogates)."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    value.encode("utf-8")  # raises UnicodeEncodeError (a ValueError) on a lone surrogate
    return value


def _storable(value: Any, depth: int = 0) -> Any:
    """Refuse what PostgreSQL cannot store in text or JSON: NUL characters, lone surrogates, NaN/Infinity;
    and JSON nested deeper than :data:`MAX_JSON_DEPTH` (its answer could not be serialized back)."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"JSON must not be nested more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, str):
        storable_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, depth + 1)
            _storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable(item, depth + 1)
    return value


def _utc(value: datetime) -> datetime:
    """In UTC; a time without an offset is taken as UTC. Refuses times that leave the calendar in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time is out of range once converted to UTC") from exc


Moment = Annotated[datetime, AfterValidator(_utc)]
"""A point in time, ISO 8601; without an offset it is UTC."""

Text = Annotated[str, AfterValidator(_storable)]
"""A string that can be stored (no NUL, valid Unicode)."""

PhoneNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+[0-9][0-9 ().-]*$"),
    AfterValidator(_e164_digits),
]
"""An international number: ``+``, then digits (spaces, dots, dashes and parentheses are allowed and dropped
when the dialer normalises it to E.164). Letters are refused."""

TimeZoneName = Annotated[
    str, StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
]
"""An IANA time-zone name such as ``America/New_York`` (the dialer checks that it exists)."""

DialplanName = Annotated[str, StringConstraints(min_length=1, max_length=79, pattern=r"^[A-Za-z0-9_.+*#-]+$")]
VariableName = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
CallbackUrl = Annotated[AnyUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])]


Outcome = Literal[
    "meeting_booked",
    "interested",
    "not_interested",
    "callback_requested",
    "voicemail",
    "opted_out",
    "transferred",
    "no_conversation",
]
"""How an agent call ended (``outcome`` of the call and of its conversation)."""
OUTCOMES: frozenset[str] = frozenset(get_args(Outcome))

RefusalRule = Literal["do_not_call", "calling_hours", "schedule", "consent", "attempt_cap"]
"""The rule that refused a dial (``refused_by`` of a call, ``rule`` of a dial refusal)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Lead(_Strict):
    """Who is called, as the agent should know them."""

    name: Text | None = Field(default=None, max_length=200)
    email: Text | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    timezone: TimeZoneName | None = Field(
        default=None, description="IANA zone of the lead; decides the calling hours when given"
    )


class AgentTarget(_Strict):
    """The answered call talks to the AI agent."""

    profile: str = Field(default="default", max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    lead: Lead | None = None
    variables: dict[VariableName, Annotated[Text, Field(max_length=1024)]] = Field(default_factory=dict)

    @field_validator("variables")
    @classmethod
    def _bounded(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_VARIABLES:
            raise ValueError(f"at most {MAX_VARIABLES} variables")
        return value


class IvrTarget(_Strict):
    """The answered call goes to this place of the Asterisk dialplan."""

    context: DialplanName
    extension: DialplanName
    priority: int = Field(default=1, ge=1, le=1_000_000)


class CreateCallRequest(_Strict):
    """``POST /api/v1/calls``. Give ``agent`` or ``ivr`` (neither: an agent call with the default profile)."""

    to: PhoneNumber
    from_: PhoneNumber | None = Field(
        default=None, alias="from", description="caller id; default: configured"
    )
    agent: AgentTarget | None = None
    ivr: IvrTarget | None = None
    timeout: int | None = Field(
        default=None, ge=1, le=MAX_RING_TIMEOUT_SECONDS, description="ring seconds (at least 15 by default)"
    )
    max_duration: int | None = Field(default=None, ge=1, le=MAX_CALL_DURATION_SECONDS)
    machine_detection: bool = False
    status_callback: CallbackUrl | None = None
    status_callback_events: list[CallStatus] | None = Field(
        default=None, description="statuses that trigger the callback; default: all"
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="free JSON, at most 16 KiB")

    @field_validator("ivr")
    @classmethod
    def _one_target(cls, value: IvrTarget | None, info: ValidationInfo) -> IvrTarget | None:
        if value is not None and info.data.get("agent") is not None:
            raise ValueError("give either agent or ivr, not both")
        return value

    @field_validator("status_callback_events")
    @classmethod
    def _needs_callback(cls, value: list[CallStatus] | None, info: ValidationInfo) -> list[CallStatus] | None:
        if value is not None and "status_callback" in info.data and info.data["status_callback"] is None:
            raise ValueError("status_callback_events needs a status_callback")
        return None if value is None else list(dict.fromkeys(value))

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        _storable(value)
        if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata is larger than {MAX_METADATA_BYTES} bytes as JSON")
        return value


class Call(BaseModel):
    """A call as the API shows it."""

    model_config = ConfigDict(populate_by_name=True)

    id: UUID
    to: str
    from_: str | None = Field(alias="from")
    mode: Literal["agent", "ivr"]
    agent: AgentTarget | None
    ivr: IvrTarget | None
    status: CallStatus
    timeout: int = Field(description="ring seconds")
    max_duration: int | None
    machine_detection: bool
    created_at: datetime
    dialed_at: datetime | None
    ringing_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration: float | None = Field(description="seconds from answer to end")
    answered_by: AnsweredBy | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    sip_code: int | None
    failure_reason: str | None
    refused_by: RefusalRule | None
    attempt_number: int
    is_active: bool = Field(description="dialing, ringing or answered")
    is_completed: bool = Field(description="ended, whatever the outcome")
    metadata: dict[str, Any]
    status_callback: str | None
    status_callback_events: list[CallStatus]
    outcome: Outcome | None = Field(description="what the AI agent concluded, once its conversation ended")
    summary: str | None = Field(default=None, description="the conversation in one line")
    transcript_url: str | None
    campaign_id: UUID | None = Field(default=None, description="the campaign that placed the call")
    lead_id: UUID | None = Field(default=None, description="the lead the campaign called")
    abandoned: bool = Field(
        default=False, description="answered by a person but no agent was ready in time (identified, hung up)"
    )
    agent_audio_delay: float | None = Field(
        default=None, description="seconds from the answer to the agent's first audio"
    )


class CallList(BaseModel):
    items: list[Call]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page; null at the end")


class ListCallsQuery(BaseModel):
    """Query of ``GET /api/v1/calls``: newest first."""

    status: list[CallStatus] | None = None
    to: PhoneNumber | None = None
    created_after: Moment | None = None
    created_before: Moment | None = None
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)


class CallEvent(BaseModel):
    """One entry of a call's timeline."""

    status: CallStatus
    at: datetime
    details: dict[str, Any]


class CallTimeline(BaseModel):
    call_id: UUID
    items: list[CallEvent] = Field(description="oldest first")
