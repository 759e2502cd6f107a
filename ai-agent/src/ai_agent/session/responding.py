"""One agent turn: stream the model, speak its sentences as they come, run its tools, until it waits.

The model's text is cut into sentences and each is spoken as soon as it is complete, so the first audio
leaves while the model is still writing. Tool calls are run and their results given back to the model,
up to ``max_tool_rounds`` times. A model that fails (after its own retries) gets a spoken fallback line
instead of dead air.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from ai_agent.llm.types import LanguageModel, LlmError, Message, TextDelta, ToolCall, ToolCallsReady, ToolSpec
from ai_agent.session.speaking import Speaker
from ai_agent.session.tools import ToolRunner

log = structlog.get_logger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
FALLBACK_LINE = "Sorry, I didn't quite get that. Could you say it again?"
GIVE_UP_LINE = "I'm sorry, I'm having technical trouble. We will call you back another time. Goodbye."


def split_sentences(text: str) -> tuple[list[str], str]:
    """Whole sentences of ``text`` and the unfinished rest."""
    parts = _SENTENCE_END.split(text)
    return [part for part in parts[:-1] if part.strip()], parts[-1]


@dataclass
class TurnTimes:
    """Monotonic seconds of one agent turn's stages; ``None`` where the stage did not happen."""

    end_of_speech: float | None = None
    turn_decided: float | None = None  # the end-of-turn silence has passed
    stt_final: float | None = None
    llm_first_token: float | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def millis(self, tts_first_byte: float | None, first_audio: float | None) -> dict[str, float]:
        stages = {
            "end_of_speech_to_turn_decided_ms": (self.end_of_speech, self.turn_decided),
            "turn_decided_to_stt_final_ms": (self.turn_decided, self.stt_final),
            "end_of_speech_to_stt_final_ms": (self.end_of_speech, self.stt_final),
            "stt_final_to_llm_first_token_ms": (self.stt_final, self.llm_first_token),
            "llm_first_token_to_tts_first_byte_ms": (self.llm_first_token, tts_first_byte),
            "tts_first_byte_to_first_audio_ms": (tts_first_byte, first_audio),
            "end_of_speech_to_first_audio_ms": (self.end_of_speech, first_audio),
        }
        return {
            name: round((end - start) * 1000, 1)
            for name, (start, end) in stages.items()
            if start is not None and end is not None
        }


class Responder:
    def __init__(
        self,
        model: LanguageModel,
        specs: Sequence[ToolSpec],
        tools: ToolRunner,
        speaker: Speaker,
        *,
        max_tool_rounds: int = 6,
    ) -> None:
        self._model, self._specs, self._tools, self._speaker = model, specs, tools, speaker
        self._max_rounds = max_tool_rounds
        self.failures = 0

    async def respond(self, messages: list[Message], times: TurnTimes) -> None:
        """Add the agent's turn to ``messages`` (and speak it). Cancelled (barge-in): ``messages`` stay a
        valid history (every tool call answered)."""
        try:
            for _ in range(self._max_rounds):
                calls = await self._round(messages, times)
                if not calls:
                    return
                await self._run_tools(messages, calls, times)
                if self._tools.decisions.end_requested or self._tools.decisions.transferred:
                    return
        finally:
            answer_open_calls(messages)

    async def _round(self, messages: list[Message], times: TurnTimes) -> tuple[ToolCall, ...]:
        text, pending, calls = "", "", tuple[ToolCall, ...]()
        try:
            async for event in self._model.stream(messages, self._specs):
                times.llm_first_token = times.llm_first_token or time.monotonic()
                if isinstance(event, TextDelta):
                    text += event.text
                    sentences, pending = split_sentences(pending + event.text)
                    for sentence in sentences:
                        await self._speaker.say(sentence)
                elif isinstance(event, ToolCallsReady):
                    calls = tuple(event.calls)
            await self._speaker.say(pending)
        except LlmError as exc:
            return await self._model_failed(messages, text, exc)
        self.failures = 0
        messages.append(Message(role="assistant", content=text.strip() or None, tool_calls=calls))
        return calls

    async def _model_failed(self, messages: list[Message], text: str, exc: LlmError) -> tuple[ToolCall, ...]:
        self.failures += 1
        log.warning("agent_model_failed", error=str(exc), failures=self.failures)
        line = FALLBACK_LINE if self.failures < 2 else GIVE_UP_LINE
        await self._speaker.say(line)
        messages.append(Message(role="assistant", content=f"{text} {line}".strip()))
        if self.failures >= 2:
            self._tools.decisions.end_requested = True
            self._tools.decisions.reason = "the language model failed twice in a row"
        return ()

    async def _run_tools(self, messages: list[Message], calls: Sequence[ToolCall], times: TurnTimes) -> None:
        for call in calls:
            result = await self._tools.run(call)
            times.tool_calls.append({"name": call.name, "arguments": dict(call.arguments), "result": result})
            messages.append(
                Message(role="tool", content=json.dumps(result), tool_call_id=call.id, name=call.name)
            )


def answer_open_calls(messages: list[Message]) -> None:
    """A turn cut off between a tool call and its result leaves the call unanswered, which models refuse
    as history: answer it as interrupted."""
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    for message in list(messages):
        for call in message.tool_calls:
            if call.id not in answered:
                content = json.dumps({"error": "interrupted: the person started speaking"})
                messages.append(Message(role="tool", content=content, tool_call_id=call.id, name=call.name))
