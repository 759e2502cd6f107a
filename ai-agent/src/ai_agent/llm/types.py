"""The provider-neutral language-model interface of the conversation.

The conversation talks to a :class:`LanguageModel` only: it sends the messages so far and the tools it
offers, and reads a stream of :data:`LlmEvent` — text as it is produced (so speech can start early), then
the tool calls of the turn (all at once, arguments parsed), then :class:`Done`. A provider (an
OpenAI-compatible Chat Completions server, or the offline deterministic dialogue policy) translates its own
protocol into these types; the conversation never branches on which one it has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asked for. ``arguments`` is the parsed JSON object; if the model sent arguments that
    are not a JSON object, ``arguments`` is empty and ``arguments_error`` says what was wrong (the
    conversation answers the tool call with that error instead of running the tool)."""

    id: str
    name: str
    arguments: Mapping[str, Any]
    raw_arguments: str = ""
    arguments_error: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str | None = None
    tool_calls: Sequence[ToolCall] = field(default_factory=tuple)  # role "assistant"
    tool_call_id: str | None = None  # role "tool": the call this message answers
    name: str | None = None  # role "tool": the tool's name


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallsReady:
    calls: Sequence[ToolCall]


@dataclass(frozen=True, slots=True)
class Done:
    finish_reason: str  # "stop", "tool_calls", "length", …


LlmEvent = TextDelta | ToolCallsReady | Done


class LlmError(Exception):
    """The model could not answer (after the provider's own retries); the conversation speaks a fallback
    line instead of leaving dead air."""


class LlmRateLimitedError(LlmError):
    def __init__(self, message: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class LlmTimeoutError(LlmError):
    pass


class LanguageModel(Protocol):
    def stream(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> AsyncIterator[LlmEvent]:
        """The model's answer to ``messages``, as events; raises :class:`LlmError` if it cannot answer."""
