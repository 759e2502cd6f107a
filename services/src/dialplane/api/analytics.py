"""Public models of reporting: a campaign's report (``GET /api/v1/campaigns/{campaign_id}/report``) and the
analytics (``GET /api/v1/analytics/...``). All read-only; the dialer serves them, the gateway forwards them.

Words used throughout (exact definitions in ``docs/analytics.md``): a *placed* call is one the dial-time
policy did not refuse; a *person-answered* call was answered and not by a machine (``answered_by`` human,
unknown or not known); rates are between 0 and 1 and are 0 when there is nothing to divide by; averages are
null then.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from dialplane.api.calls import Moment
from dialplane.api.campaigns import CampaignStatus
from dialplane.api.routes import API_PREFIX
from dialplane.calls import CallStatus

CAMPAIGN_REPORT = f"{API_PREFIX}/campaigns/{{campaign_id}}/report"
ANALYTICS = f"{API_PREFIX}/analytics"
OVERVIEW = f"{ANALYTICS}/overview"
CALL_OUTCOMES = f"{ANALYTICS}/call-outcomes"
LANGUAGES = f"{ANALYTICS}/languages"
LEAD_STATUSES = f"{ANALYTICS}/lead-statuses"
RECENT_ACTIVITY = f"{ANALYTICS}/recent-activity"
ACTIVE_CAMPAIGNS = f"{ANALYTICS}/active-campaigns"
VOICES = f"{ANALYTICS}/voices"

DEFAULT_WINDOW = dt.timedelta(days=30)
ABANDON_WINDOW = dt.timedelta(days=30)
DEFAULT_RECENT_LIMIT = 20
MAX_RECENT_LIMIT = 100


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignFilter(_Query):
    campaign_id: UUID | None = Field(
        default=None, description="only this campaign (404 if it does not exist)"
    )


class AnalyticsQuery(CampaignFilter):
    """The window of calls (by ``created_at``) and leads (by when they were added) the figures cover."""

    since: Moment | None = Field(
        default=None, description="start of the window, inclusive; default: until minus 30 days"
    )
    until: Moment | None = Field(default=None, description="end of the window, exclusive; default: now")

    @field_validator("until")
    @classmethod
    def _after_since(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and value <= since:
            raise ValueError("until must be after since")
        return value


class RecentActivityQuery(AnalyticsQuery):
    limit: int = Field(default=DEFAULT_RECENT_LIMIT, ge=1, le=MAX_RECENT_LIMIT, description="newest calls")


class Window(BaseModel):
    """What the figures cover: calls created, and leads added, in ``[since, until)``."""

    since: dt.datetime
    until: dt.datetime
    campaign_id: UUID | None = Field(description="the campaign the figures are limited to, if any")


class LeadStatusCounts(BaseModel):
    """Leads by status (every status is present, 0 when none)."""

    pending: int = Field(ge=0, description="not dialed yet")
    queued: int = Field(ge=0, description="picked to be dialed")
    calling: int = Field(ge=0, description="a call is in flight")
    contacted: int = Field(ge=0, description="a person was reached (final)")
    meeting_scheduled: int = Field(ge=0, description="a meeting was booked (final)")
    not_interested: int = Field(ge=0, description="final")
    callback: int = Field(ge=0, description="asked to be called back")
    no_answer: int = Field(ge=0, description="nobody reached on the latest attempt")
    do_not_call: int = Field(ge=0, description="opted out or listed (final)")
    failed: int = Field(ge=0, description="cannot be dialed (final)")
    exhausted: int = Field(ge=0, description="out of attempts (final)")


class CallStatusCounts(BaseModel):
    """Placed calls by final status; ``in_progress``: not ended yet."""

    completed: int = Field(ge=0, description="answered, then ended")
    busy: int = Field(ge=0)
    no_answer: int = Field(ge=0)
    failed: int = Field(ge=0)
    canceled: int = Field(ge=0)
    in_progress: int = Field(ge=0, description="queued, dialing, ringing or answered")


class OutcomeCounts(BaseModel):
    """Calls by what the AI agent concluded (calls without an outcome are not counted)."""

    meeting_booked: int = Field(ge=0)
    interested: int = Field(ge=0)
    not_interested: int = Field(ge=0)
    callback_requested: int = Field(ge=0)
    voicemail: int = Field(ge=0)
    opted_out: int = Field(ge=0)
    transferred: int = Field(ge=0)
    no_conversation: int = Field(ge=0)


class RefusalCounts(BaseModel):
    """Dials the policy refused, by rule."""

    do_not_call: int = Field(ge=0)
    calling_hours: int = Field(ge=0)
    schedule: int = Field(ge=0)
    consent: int = Field(ge=0)
    attempt_cap: int = Field(ge=0)


# -- the campaign report --------------------------------------------------------------------------------


class ReportLeads(BaseModel):
    total: int = Field(ge=0, description="leads in the campaign")
    by_status: LeadStatusCounts
    final: int = Field(ge=0, description="leads the campaign is done with (see docs/analytics.md)")
    progress: float = Field(ge=0, le=1, description="final / total; 0 without leads")


class ReportCalls(BaseModel):
    attempts: int = Field(ge=0, description="calls placed (refused dials are not attempts)")
    answered: int = Field(ge=0, description="person-answered calls (answered, not by a machine)")
    answer_rate: float = Field(ge=0, le=1, description="answered / attempts; 0 without attempts")
    abandoned: int = Field(ge=0, description="answered by a person with no agent ready in time")
    meetings_booked: int = Field(ge=0, description="calls whose outcome is meeting_booked")
    average_agent_audio_delay_seconds: float | None = Field(
        description="mean seconds from the answer to the agent's first audio; null when never measured"
    )


class AbandonRate(BaseModel):
    """Abandoned calls over person-answered calls, among the calls placed in the last ``window_days``."""

    window_days: int = Field(description="the rolling window, in days, up to now")
    abandoned: int = Field(ge=0, description="person-answered calls marked abandoned")
    answered: int = Field(ge=0, description="person-answered calls")
    rate: float = Field(ge=0, le=1, description="abandoned / answered; 0 when nothing was answered")
    limit: float = Field(description="the campaign's abandon_rate_limit")


class ReportRefusals(BaseModel):
    total: int = Field(ge=0, description="dials of the campaign the policy refused")
    by_rule: RefusalCounts


class CampaignReport(BaseModel):
    """A campaign's progress and results since it was created."""

    campaign_id: UUID
    name: str
    status: CampaignStatus
    status_reason: str | None = Field(description="why it paused, stopped or completed")
    generated_at: dt.datetime = Field(description="when the figures were read")
    leads: ReportLeads
    calls: ReportCalls
    abandon_rate: AbandonRate
    refusals: ReportRefusals


# -- analytics -------------------------------------------------------------------------------------------


class Overview(BaseModel):
    window: Window
    leads: int = Field(ge=0, description="leads added in the window (to the campaign, with campaign_id)")
    calls: int = Field(ge=0, description="calls placed in the window")
    answered_calls: int = Field(ge=0, description="person-answered calls among calls")
    answer_rate: float = Field(ge=0, le=1, description="answered_calls / calls; 0 without calls")
    meetings_booked: int = Field(ge=0, description="calls with the outcome meeting_booked")
    conversion_rate: float = Field(ge=0, description="meetings_booked / answered_calls; 0 without answers")
    average_duration_seconds: float | None = Field(
        description="mean answer-to-end seconds of ended answered_calls; null when none"
    )
    active_calls: int = Field(ge=0, description="calls not ended right now (ignores the window)")


class CallOutcomes(BaseModel):
    window: Window
    calls: int = Field(ge=0, description="calls placed in the window")
    by_status: CallStatusCounts
    by_outcome: OutcomeCounts


class LanguageFigures(BaseModel):
    language: str | None = Field(description="the lead's language; null: not known, or a call without a lead")
    leads: int = Field(ge=0, description="leads added in the window")
    calls: int = Field(ge=0, description="calls placed in the window to leads of this language")
    meetings_booked: int = Field(ge=0, description="those calls with the outcome meeting_booked")


class Languages(BaseModel):
    window: Window
    items: list[LanguageFigures] = Field(description="most leads and calls first")


class LeadStatuses(BaseModel):
    window: Window
    total: int = Field(ge=0, description="leads added in the window")
    by_status: LeadStatusCounts = Field(description="their status now")


class RecentCall(BaseModel):
    call_id: UUID
    campaign_id: UUID | None
    campaign_name: str | None
    lead_id: UUID | None
    to: str = Field(description="the called number, masked (country prefix and last two digits)")
    status: CallStatus
    answered_by: str | None
    outcome: str | None
    created_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_seconds: float | None = Field(description="answer to end")


class RecentActivity(BaseModel):
    window: Window
    items: list[RecentCall] = Field(description="placed calls, newest first")


class ActiveCampaign(BaseModel):
    campaign_id: UUID
    name: str
    status: CampaignStatus
    status_reason: str | None
    started_at: dt.datetime | None
    leads: int = Field(ge=0, description="leads in the campaign")
    final_leads: int = Field(ge=0, description="leads the campaign is done with")
    progress: float = Field(ge=0, le=1, description="final_leads / leads; 0 without leads")
    live_calls: int = Field(ge=0, description="its calls not ended right now")
    max_concurrent_calls: int


class ActiveCampaigns(BaseModel):
    """Running and paused campaigns, as they are now (no time window)."""

    items: list[ActiveCampaign] = Field(description="newest campaign first")


class VoiceFigures(BaseModel):
    profile: str = Field(description="the agent profile the calls used")
    calls: int = Field(ge=0, description="agent calls placed in the window")
    answered_calls: int = Field(ge=0, description="person-answered among them")
    meetings_booked: int = Field(ge=0)
    conversion_rate: float = Field(ge=0, description="meetings_booked / answered_calls; 0 without answers")
    average_duration_seconds: float | None = Field(description="mean answer-to-end seconds of answered calls")
    average_agent_audio_delay_seconds: float | None = Field(
        description="mean seconds from the answer to the agent's first audio"
    )


class Voices(BaseModel):
    window: Window
    items: list[VoiceFigures] = Field(description="most calls first")
