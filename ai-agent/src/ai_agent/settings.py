"""Settings of the ai-agent service (environment prefix ``AI_AGENT_``, then ``DIALPLANE_``)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ai_agent.calendar.registry import CalendarConfig, default_calendars
from ai_agent.stt.settings import SttSettings
from ai_agent.tts.settings import TtsSettings
from dialplane.settings import ServiceSettings


class LlmSettings(BaseModel):
    """The language model: ``policy`` (offline, deterministic, the default) or any server speaking the OpenAI
    Chat Completions protocol (OpenAI, vLLM, Ollama, llama.cpp's server)."""

    model_config = ConfigDict(frozen=True)

    provider: Literal["policy", "openai"] = "policy"
    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    temperature: float | None = Field(default=0.3, ge=0, le=2)
    first_token_timeout_seconds: float = Field(default=5.0, gt=0)
    total_timeout_seconds: float = Field(default=15.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)


class EngineSettings(BaseModel):
    """Turn-taking and the conversation's limits."""

    model_config = ConfigDict(frozen=True)

    opening_wait_seconds: float = Field(
        default=2.0, ge=0, description="the agent opens if nobody spoke by then"
    )
    silence_seconds: float = Field(default=8.0, gt=0, description="silence before a re-prompt, then goodbye")
    reprompts: int = Field(default=1, ge=0)
    max_duration_seconds: float = Field(default=600.0, gt=0)
    vad_threshold: float = Field(default=0.5, gt=0, lt=1)
    min_speech_ms: float = Field(default=160.0, gt=0, description="speech this long starts a turn (barge-in)")
    barge_in_min_speech_ms: float = Field(default=64.0, gt=0, description="the same while the agent speaks")
    record_calls: bool = Field(
        default=False, description="keep a recording of both sides of each conversation"
    )
    opt_out_key: str = Field(default="9", pattern=r"^[0-9*#]$", description="the key that opts out at once")
    end_of_turn_silence_ms: float = Field(default=550.0, gt=0, description="silence this long ends a turn")


class ConversationSettingsMixin(BaseModel):
    """The conversation engine's part of the settings (JSON values in the environment, e.g.
    ``AI_AGENT_STT='{"provider": "deepgram", "deepgram_api_key": "…"}'``)."""

    stt: SttSettings = SttSettings()
    tts: TtsSettings = TtsSettings()
    llm: LlmSettings = LlmSettings()
    engine: EngineSettings = EngineSettings()
    calendars: list[CalendarConfig] = Field(
        default_factory=default_calendars, min_length=1, description="where meetings are booked, by name"
    )


class Settings(ServiceSettings, ConversationSettingsMixin):
    service_prefix: ClassVar[str] = "AI_AGENT_"
    service_name: ClassVar[str] = "ai-agent"
    default_port: ClassVar[int] = 8003

    # 4: on 2 cores the offline stack answered 4 calls at once before its turn latency doubled (bench/).
    max_conversations: int = Field(default=4, ge=1, description="conversations one process holds at once")
    capacity_report_interval_seconds: float = Field(
        default=2.0, gt=0, le=5, description="how often the process's capacity report is refreshed"
    )
