"""Public models of the campaigns API (``/api/v1/campaigns``): a campaign works through its leads with the AI
agent, as fast as its limits, the agents' free capacity and the calling rules allow."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from dialplane.api.calls import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Moment, PhoneNumber, Text
from dialplane.api.leads import LeadStatus

CAMPAIGNS = "/api/v1/campaigns"
CAMPAIGN = "/api/v1/campaigns/{campaign_id}"
CAMPAIGN_LEADS = "/api/v1/campaigns/{campaign_id}/leads"
CAMPAIGN_CALLBACK = "/api/v1/campaigns/{campaign_id}/leads/{lead_id}/callback"

CampaignStatus = Literal["draft", "running", "paused", "stopped", "completed"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOCAL_TIME_SCHEMA: dict[str, JsonValue] = {
    "format": "partial-time"
}  # RFC 3339's time without an offset ("time" has one)
ProfileName = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schedule(_Strict):
    """When the campaign may call, in each lead's local time; always inside the calling hours too."""

    start_date: dt.date | None = Field(default=None, description="first day (lead's local date)")
    end_date: dt.date | None = Field(default=None, description="last day, inclusive")
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    start_time: dt.time = Field(
        default=dt.time(8, 0), description="local time of day", json_schema_extra=LOCAL_TIME_SCHEMA
    )
    end_time: dt.time = Field(
        default=dt.time(21, 0),
        description="local time of day, exclusive",
        json_schema_extra=LOCAL_TIME_SCHEMA,
    )

    @field_validator("start_time", "end_time")
    @classmethod
    def _local(cls, value: dt.time) -> dt.time:
        if value.tzinfo is not None:  # (and an aware time cannot be compared with a local one)
            raise ValueError("a local time of day, without a UTC offset")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.start_time >= self.end_time:
            raise ValueError("schedule.start_time must be before schedule.end_time")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError("schedule.start_date must not be after schedule.end_date")
        self.weekdays = [day for day in WEEKDAYS if day in self.weekdays]
        return self


class RetryRule(_Strict):
    delay_seconds: int = Field(ge=0, le=30 * 86_400, description="wait after the attempt ended")
    max_attempts: int = Field(ge=1, le=100, description="attempts of the lead in this campaign, in all")


class RetryPolicy(_Strict):
    """What to do after an attempt that reached nobody, by result."""

    busy: RetryRule = RetryRule(delay_seconds=900, max_attempts=3)
    no_answer: RetryRule = RetryRule(delay_seconds=3600, max_attempts=3)
    failed: RetryRule = RetryRule(delay_seconds=1800, max_attempts=2)
    voicemail: RetryRule = RetryRule(delay_seconds=86_400, max_attempts=2)
    abandoned: RetryRule = Field(
        default=RetryRule(delay_seconds=72 * 3600, max_attempts=2),
        description="answered but no agent was ready (Ofcom: no re-call within 72 hours)",
    )


class AttemptCap(_Strict):
    """At most ``max_attempts`` calls to one number within ``window_days`` (all calls to it, not only this
    campaign's; e.g. Regulation F's 7 in 7 days)."""

    max_attempts: int = Field(default=7, ge=1, le=1000)
    window_days: float = Field(default=7, gt=0, le=365)


class LeadSelection(_Strict):
    """Which leads join: the listed ones and those matching the filter (both, when both are given)."""

    lead_ids: list[UUID] = Field(default_factory=list, max_length=10_000)
    status: list[LeadStatus] | None = Field(default=None, description="leads with one of these statuses")
    partner: Text | None = Field(default=None, max_length=200)
    language: Text | None = Field(default=None, max_length=35)
    consent: bool | None = None
    all_leads: bool = Field(default=False, description="every lead (the filter's fields still apply)")

    @property
    def uses_filter(self) -> bool:
        given = (self.status, self.partner, self.language, self.consent)
        return self.all_leads or any(value is not None for value in given)


class _CampaignFields(_Strict):
    agent_profile: ProfileName = "default"
    caller_id: PhoneNumber | None = Field(default=None, description="default: the dialer's caller id")
    schedule: Schedule = Field(default_factory=Schedule)
    max_concurrent_calls: int = Field(default=5, ge=1, le=10_000)
    calls_per_second: float = Field(default=1.0, gt=0, le=1000)
    retry_policy: RetryPolicy = Field(default_factory=RetryPolicy)
    attempt_cap: AttemptCap = Field(default_factory=AttemptCap)
    require_consent: bool = Field(default=False, description="dial only leads that gave consent")
    abandon_rate_limit: float = Field(
        default=0.03,
        gt=0,
        le=1,
        description="30-day abandoned / person-answered; the campaign pauses before it",
    )
    ring_timeout_seconds: int | None = Field(default=None, ge=1, le=600)
    machine_detection: bool = True


class CreateCampaignRequest(_CampaignFields):
    name: Text = Field(min_length=1, max_length=200)
    leads: LeadSelection | None = None


class UpdateCampaignRequest(_Strict):
    """``PATCH``: the fields given change (not in a stopped or completed campaign)."""

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    agent_profile: ProfileName | None = None
    caller_id: PhoneNumber | None = None
    schedule: Schedule | None = None
    max_concurrent_calls: int | None = Field(default=None, ge=1, le=10_000)
    calls_per_second: float | None = Field(default=None, gt=0, le=1000)
    retry_policy: RetryPolicy | None = None
    attempt_cap: AttemptCap | None = None
    require_consent: bool | None = None
    abandon_rate_limit: float | None = Field(default=None, gt=0, le=1)
    ring_timeout_seconds: int | None = Field(default=None, ge=1, le=600)
    machine_detection: bool | None = None


class Campaign(_CampaignFields):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    name: str
    status: CampaignStatus
    status_reason: str | None = Field(description="why it paused, stopped or completed")
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None


class CampaignList(BaseModel):
    items: list[Campaign]
    next_cursor: str | None


class ListCampaignsQuery(BaseModel):
    status: list[CampaignStatus] | None = None
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)


class StateChange(_Strict):
    """``POST .../pause`` and ``.../stop`` may say why."""

    reason: Text | None = Field(default=None, max_length=500)


class LeadsAdded(BaseModel):
    added: int = Field(description="leads that joined (those already in the campaign are not counted)")


class CampaignLead(BaseModel):
    lead_id: UUID
    phone: str
    name: str | None
    status: LeadStatus
    attempts: int
    next_attempt_at: dt.datetime | None = Field(description="when it will be dialed; null: not again")
    callback_at: dt.datetime | None
    last_result: str | None = Field(description="busy, no_answer, failed, voicemail, abandoned, an outcome…")
    call_id: UUID | None = Field(description="the latest call")
    updated_at: dt.datetime


class CampaignLeadList(BaseModel):
    items: list[CampaignLead]
    next_cursor: str | None


class ListCampaignLeadsQuery(BaseModel):
    status: list[LeadStatus] | None = None
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)


class CallbackRequest(_Strict):
    at: Moment = Field(description="when to call the lead back (dialed then, inside the calling hours)")
