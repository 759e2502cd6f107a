"""Public models of the AI agent's API: profiles, the system prompt, voices, and what a conversation left
(its turns, transcript and recording).

The ai-agent serves these routes (same paths, on loopback); the gateway declares them with these models and
forwards them. The models check the *shape*; what needs the ai-agent's own configuration (the calendars it
knows, the placeholders a prompt may use) is checked there and answered 422 naming the field the same way.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from dialplane.api.calls import Outcome, storable_text
from dialplane.api.meetings import Meeting
from dialplane.api.routes import API_PREFIX

AGENT_PROFILES = f"{API_PREFIX}/agent-profiles"
AGENT_PROFILE = f"{AGENT_PROFILES}/{{name}}"
SYSTEM_PROMPT = f"{API_PREFIX}/settings/system-prompt"
DEFAULT_SYSTEM_PROMPT = f"{SYSTEM_PROMPT}/default"
VOICES = f"{API_PREFIX}/voices"
VOICE_PREVIEW = f"{VOICES}/{{voice_id}}/preview"
CONVERSATION = f"{API_PREFIX}/calls/{{call_id}}/conversation"
TRANSCRIPT = f"{API_PREFIX}/calls/{{call_id}}/transcript"
RECORDING = f"{API_PREFIX}/calls/{{call_id}}/recording"

DEFAULT_PROFILE = "default"
MAX_PROMPT_LENGTH = 20_000
MAX_PREVIEW_TEXT_LENGTH = 500

AgentTool = Literal[
    "check_calendar_availability",
    "book_meeting",
    "schedule_callback",
    "transfer_to_human",
    "opt_out",
    "end_call",
]
AGENT_TOOLS: tuple[AgentTool, ...] = get_args(AgentTool)
ConversationOutcome = Outcome  # a conversation's outcome is its call's
ConversationStatus = Literal["pending", "active", "ended"]
Speaker = Literal["agent", "person"]

PROFILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")


def _language_tag(value: str) -> str:
    """A BCP 47 language tag (language, optional script and region), cased canonically: ``en-US``."""
    match = _LANGUAGE.match(value)
    if match is None:
        raise ValueError("a language tag such as 'en', 'en-US', 'pt-BR' or 'zh-Hant-TW'")
    language, script, region = match.groups()
    parts = [language.lower(), script.title() if script else None, region.upper() if region else None]
    return "-".join(part for part in parts if part)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _length(max_length: int, *, strip: bool = False) -> StringConstraints:
    return StringConstraints(strip_whitespace=strip, min_length=1, max_length=max_length)


_STORABLE, _NOT_BLANK = AfterValidator(storable_text), AfterValidator(_not_blank)

ProfileName = Annotated[str, StringConstraints(pattern=PROFILE_NAME_PATTERN)]
LanguageTag = Annotated[str, StringConstraints(max_length=16), AfterValidator(_language_tag)]
PromptText = Annotated[str, _length(MAX_PROMPT_LENGTH), _STORABLE, _NOT_BLANK]
VoicemailText = Annotated[str, _length(1000), _STORABLE, _NOT_BLANK]
PreviewText = Annotated[str, _length(MAX_PREVIEW_TEXT_LENGTH), _STORABLE, _NOT_BLANK]
ShortText = Annotated[str, _length(100, strip=True), _STORABLE, _NOT_BLANK]
Description = Annotated[str, StringConstraints(max_length=1000), _STORABLE]
VoiceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,99}$")]
CalendarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
Destination = Annotated[str, StringConstraints(pattern=r"^\S{1,255}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentProfileSettings(_Strict):
    """What a profile sets (``PUT`` replaces them all: a field left out takes its default)."""

    description: Description = ""
    system_prompt: PromptText | None = Field(default=None, description="null: the active global prompt")
    voice: VoiceId | None = Field(default=None, description="null: the speech provider's default")
    language: LanguageTag | None = Field(default=None, description="null: from the number's country")
    tools: list[AgentTool] = Field(default_factory=lambda: list(AGENT_TOOLS), max_length=len(AGENT_TOOLS))
    calendar: CalendarName = Field(default="default", description="one of the ai-agent's calendars")
    voicemail_message: VoicemailText | None = Field(
        default=None,
        description="spoken, as written, to answering machines; null: hang up on them",
    )
    transfer_destination: Destination | None = Field(default=None, description="where transfers go")
    agent_name: ShortText = "Alex"
    company_name: ShortText = "Dialplane"
    meeting_title: ShortText = "Introductory call"

    @field_validator("tools")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class CreateAgentProfile(AgentProfileSettings):
    """``POST /api/v1/agent-profiles``."""

    name: ProfileName


_NOT_NULL = ("description", "tools", "calendar", "agent_name", "company_name", "meeting_title")


class UpdateAgentProfile(_Strict):
    """``PATCH /api/v1/agent-profiles/{name}``: only the fields given change (null clears a nullable one)."""

    description: Description | None = None
    system_prompt: PromptText | None = None
    voice: VoiceId | None = None
    language: LanguageTag | None = None
    tools: list[AgentTool] | None = Field(default=None, max_length=len(AGENT_TOOLS))
    calendar: CalendarName | None = None
    voicemail_message: VoicemailText | None = None
    transfer_destination: Destination | None = None
    agent_name: ShortText | None = None
    company_name: ShortText | None = None
    meeting_title: ShortText | None = None

    @field_validator("tools")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _required_not_null(self) -> UpdateAgentProfile:
        given = self.model_fields_set
        cleared = [name for name in _NOT_NULL if name in given and getattr(self, name) is None]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the request gave, with their new values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class AgentProfile(BaseModel):
    name: str
    description: str
    system_prompt: str | None
    voice: str | None
    language: str | None
    tools: list[AgentTool]
    calendar: str
    voicemail_message: str | None
    transfer_destination: str | None
    agent_name: str
    company_name: str
    meeting_title: str
    created_at: datetime
    updated_at: datetime


class AgentProfileList(BaseModel):
    items: list[AgentProfile] = Field(description="by name")


class SystemPrompt(BaseModel):
    """The active global prompt (profiles without a prompt of their own use it)."""

    prompt: str
    is_default: bool = Field(description="the prompt that ships with the ai-agent is active")
    updated_at: datetime | None = Field(description="when it was set; null for the default")


class SetSystemPrompt(_Strict):
    """``PUT /api/v1/settings/system-prompt``: a ``string.Template`` (``$lead_name``, …; ``$$`` for $)."""

    prompt: PromptText


class DefaultSystemPrompt(BaseModel):
    prompt: str


class Voice(BaseModel):
    id: str
    name: str
    language: str
    gender: str | None


class VoiceList(BaseModel):
    items: list[Voice]


class VoicePreviewQuery(BaseModel):
    """Query of ``GET /api/v1/voices/{voice_id}/preview``."""

    language: LanguageTag | None = Field(default=None, description="default: the voice's language")
    text: PreviewText | None = None


class ConversationTurn(BaseModel):
    seq: int = Field(description="1, 2, … in the order spoken")
    speaker: Speaker
    text: str
    started_at: datetime
    ended_at: datetime | None
    interrupted: bool = Field(description="the agent was cut off by the person")
    tool_calls: list[dict[str, Any]]
    timings: dict[str, float] = Field(
        description="the turn's latencies in milliseconds, e.g. end_of_speech_to_first_audio_ms"
    )


class Conversation(BaseModel):
    call_id: UUID
    profile: str
    to: str
    lead: dict[str, Any]
    variables: dict[str, Any]
    language: str | None
    status: ConversationStatus
    answered_by: str | None
    outcome: ConversationOutcome | None
    summary: str | None
    callback_at: datetime | None
    meeting: Meeting | None = Field(description="the meeting booked during the call, if any")
    end_reason: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    turns: list[ConversationTurn] = Field(description="in the order spoken")


class TranscriptLine(BaseModel):
    speaker: Speaker
    text: str
    at: datetime = Field(description="when the speaker started")


class Transcript(BaseModel):
    call_id: UUID
    status: ConversationStatus
    turns: list[TranscriptLine]


class TranscriptQuery(BaseModel):
    format: Literal["json", "text"] | None = Field(
        default=None, description="text: 'Agent: …' lines (also chosen by Accept: text/plain)"
    )
