"""The offline default "language model": a deterministic dialogue policy for the meeting-booking call.

:class:`DialoguePolicy` implements :class:`~ai_agent.llm.types.LanguageModel` with no model server. It reads
the conversation so far (the lead's words as speech-to-text wrote them, the tools' results) and answers as an
LLM with the same tools (:mod:`ai_agent.llm.policy_tools`) would: short spoken sentences, streamed one by
one, then the tool calls of the turn, then :class:`~ai_agent.llm.types.Done`.

It is stateless across calls: every call replays the messages to rebuild the state (what was asked, which
slot was agreed, how many clarifying questions in a row), so it works exactly like an LLM given the
history. The call's context — who calls whom, the lead's time zone, "now" — comes from the constructor; the
system message is not read. See docs/dialogue-policy.md for the conversation it holds.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Sequence
from zoneinfo import ZoneInfo

from ai_agent.llm.policy_lines import CallContext
from ai_agent.llm.policy_results import on_results
from ai_agent.llm.policy_state import Reply, ToolResult, read_result
from ai_agent.llm.policy_turns import Dialogue
from ai_agent.llm.types import Done, LlmEvent, Message, TextDelta, ToolCall, ToolCallsReady, ToolSpec

__all__ = ["CallContext", "DialoguePolicy"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DialoguePolicy:
    """A :class:`~ai_agent.llm.types.LanguageModel` that books meetings by rules.

    ``company``, ``agent_name``: who calls (the greeting says it is an automated assistant).
    ``lead_name``: greeted by the first word; also the attendee of the meeting.
    ``timezone``: the lead's IANA zone; every time is read, spoken and sent to the tools in it.
    ``now``: the clock (aware; a naive time is taken as UTC), so tests can fix it.
    ``topic``: what the meeting is about ("a short meeting about …"), default "how <company> can help you".
    ``meeting_minutes``: the meeting's length. ``lead_email``: the address on file, used when the lead
    points to it or the spoken one cannot be read twice. ``callback_number``: said in the greeting and on
    voicemail when set. ``calling_hours``: call backs fall inside them (the last half an hour before the
    end); ``meeting_hours``: the range looked up when the lead names a day without a time.
    """

    def __init__(
        self,
        *,
        company: str,
        agent_name: str = "Alex",
        lead_name: str | None = None,
        timezone: str = "UTC",
        now: Callable[[], dt.datetime] = utc_now,
        topic: str | None = None,
        meeting_minutes: int = 30,
        lead_email: str | None = None,
        callback_number: str | None = None,
        calling_hours: tuple[dt.time, dt.time] = (dt.time(8), dt.time(21)),
        meeting_hours: tuple[dt.time, dt.time] = (dt.time(9), dt.time(17)),
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self.context = CallContext(
            company=company,
            agent_name=agent_name,
            lead_name=lead_name,
            timezone=timezone,
            topic=topic,
            meeting_minutes=meeting_minutes,
            lead_email=lead_email,
            callback_number=callback_number,
            calling_hours=calling_hours,
            meeting_hours=meeting_hours,
        )
        self._now = now

    def now(self) -> dt.datetime:
        """Now, in the lead's zone."""
        moment = self._now()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(self.zone)

    async def stream(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> AsyncIterator[LlmEvent]:
        reply = self.reply(messages, tools)
        for index, sentence in enumerate(reply.sentences):
            yield TextDelta(sentence if index == len(reply.sentences) - 1 else f"{sentence} ")
        if reply.calls:
            yield ToolCallsReady(
                tuple(_call(len(messages), n, name, args) for n, (name, args) in enumerate(reply.calls))
            )
        yield Done("tool_calls" if reply.calls else "stop")

    def reply(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> Reply:
        """The next turn for ``messages`` (the same as :meth:`stream`, not streamed)."""
        dialogue = Dialogue(self.context, self.now(), frozenset(tool.name for tool in tools))
        spoken = [message for message in messages if message.role != "system"]
        if not spoken:
            return dialogue.opening()
        if spoken[0].role == "assistant":
            dialogue.opening()  # the agent spoke first: that was the greeting
        return _replay(dialogue, spoken)


def _replay(dialogue: Dialogue, messages: Sequence[Message]) -> Reply:
    """Run the decisions of every turn in order; the last one is the answer."""
    reply, results = Reply(), list[ToolResult]()
    for index, message in enumerate(messages):
        if message.role == "user":
            reply = dialogue.on_user(message.content or "")
        elif message.role == "assistant":
            dialogue.state.record(message)
            reply = Reply()
        elif message.role == "tool":
            results.append(read_result(message, dialogue.state.calls))
            following = messages[index + 1] if index + 1 < len(messages) else None
            if following is None or following.role != "tool":
                reply, results = on_results(dialogue, results), []
    return reply


def _call(turn: int, index: int, name: str, arguments: dict[str, object]) -> ToolCall:
    """A tool call with an id that is unique in the conversation and the same on every replay."""
    return ToolCall(
        id=f"call_{turn}_{index}", name=name, arguments=arguments, raw_arguments=json.dumps(arguments)
    )
