"""A simulated call: the conversation's model-and-tools loop, with scripted tools, for any language model.

:class:`SimulatedCall` runs the loop the conversation runs: after the person speaks, stream the model; if
it called tools, run them (here: :class:`SimulatedTools`), add their results and stream again, until the
model waits for the person or has called ``end_call``. It drives the policy's tests and lets a transcript
be tried offline against the policy or a real LLM client. :class:`SimulatedTools` answers like the real
tools: a calendar with a slot grid in working hours (minus ``busy``), bookings, call backs, opt-outs and
transfers that succeed unless told to fail.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ai_agent.llm import policy_tools as tools
from ai_agent.llm.types import (
    Done,
    LanguageModel,
    LlmEvent,
    Message,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    ToolSpec,
)

MAX_TOOL_ROUNDS = 6


class SimulationError(Exception):
    """The model broke the stream's protocol (a missing or early ``Done``, tool calls without the finish
    reason ``tool_calls``), or the person spoke after the call ended."""


@dataclass
class SimulatedTools:
    """Tool results as the conversation would return them. ``failing`` counts down failures per tool;
    ``booking_refused`` is the calendar's reason for refusing every booking (``"taken"``)."""

    now: dt.datetime
    zone: dt.tzinfo
    busy: set[dt.datetime] = field(default_factory=set)
    failing: dict[str, int] = field(default_factory=dict)
    booking_refused: str | None = None
    hours: tuple[dt.time, dt.time] = (dt.time(9), dt.time(17))
    grid_minutes: int = 30

    def run(self, call: ToolCall) -> dict[str, Any]:
        if self.failing.get(call.name, 0) > 0:
            self.failing[call.name] -= 1
            return {"error": f"{call.name} is unavailable"}
        args = call.arguments
        if call.name == tools.CHECK_AVAILABILITY:
            start, end = dt.datetime.fromisoformat(args["start"]), dt.datetime.fromisoformat(args["end"])
            length = dt.timedelta(minutes=int(args["duration_minutes"]))
            slots = self.free(start, end, length)
            return {"slots": [{"start": s.isoformat(), "end": (s + length).isoformat()} for s in slots]}
        if call.name == tools.BOOK_MEETING and self.booking_refused:
            return {"error": "the requested time is not available", "reason": self.booking_refused}
        results: dict[str, dict[str, Any]] = {
            tools.BOOK_MEETING: {"meeting_id": "m-1", "start": args.get("start")},
            tools.SCHEDULE_CALLBACK: {"scheduled": True, "callback_at": args.get("callback_at")},
            tools.OPT_OUT: {"opted_out": True},
            tools.TRANSFER_TO_HUMAN: {"transferred": True},
        }
        return results.get(call.name, {"ok": True})

    def free(self, start: dt.datetime, end: dt.datetime, length: dt.timedelta) -> list[dt.datetime]:
        """Grid slots of ``length`` inside ``[start, end)`` and the working hours, after now, not busy."""
        slots: list[dt.datetime] = []
        day = start.astimezone(self.zone).date()
        while day <= end.astimezone(self.zone).date():
            at = dt.datetime.combine(day, self.hours[0], tzinfo=self.zone)
            closes = dt.datetime.combine(day, self.hours[1], tzinfo=self.zone)
            while at + length <= closes:
                if start <= at and at + length <= end and at > self.now and at not in self.busy:
                    slots.append(at)
                at += dt.timedelta(minutes=self.grid_minutes)
            day += dt.timedelta(days=1)
        return slots


@dataclass(frozen=True, slots=True)
class Turn:
    """One streamed answer of the model."""

    text: str
    calls: tuple[ToolCall, ...]
    events: tuple[LlmEvent, ...]


class SimulatedCall:
    def __init__(
        self,
        model: LanguageModel,
        simulated: SimulatedTools,
        *,
        specs: Sequence[ToolSpec] = tools.TOOLS,
        system: str = "You book meetings by phone.",
    ) -> None:
        self.model, self.simulated, self.specs = model, simulated, specs
        self.messages: list[Message] = [Message(role="system", content=system)]
        self.log: list[ToolCall] = []
        self.ended = False

    async def start(self) -> str:
        """The model speaks first (the call was answered); what it said until it waits."""
        return await self._until_waiting()

    async def say(self, words: str) -> str:
        """The person says ``words``; everything the agent says back until it waits for them again."""
        if self.ended:
            raise SimulationError("the call has ended")
        self.messages.append(Message(role="user", content=words))
        return await self._until_waiting()

    async def _until_waiting(self) -> str:
        spoken: list[str] = []
        for _ in range(MAX_TOOL_ROUNDS):
            turn = await self.turn()
            spoken.append(turn.text)
            if not turn.calls or self.ended:
                break
            for call in turn.calls:
                content = json.dumps(self.simulated.run(call))
                self.messages.append(
                    Message(role="tool", content=content, tool_call_id=call.id, name=call.name)
                )
        return " ".join(text for text in spoken if text)

    async def turn(self) -> Turn:
        """Stream the model once, check the protocol and record its answer in the messages."""
        events = tuple([event async for event in self.model.stream(self.messages, self.specs)])
        text = "".join(event.text for event in events if isinstance(event, TextDelta))
        calls = tuple(call for event in events if isinstance(event, ToolCallsReady) for call in event.calls)
        done = [index for index, event in enumerate(events) if isinstance(event, Done)]
        if done != [len(events) - 1]:
            raise SimulationError(f"the stream must end with one Done: {events!r}")
        last = events[-1]
        if calls and isinstance(last, Done) and last.finish_reason != "tool_calls":
            raise SimulationError(f"finish reason {last.finish_reason!r} after tool calls")
        self.messages.append(Message(role="assistant", content=text or None, tool_calls=calls))
        self.log += calls
        self.ended = self.ended or any(call.name == tools.END_CALL for call in calls)
        return Turn(text, calls, events)

    def called(self, name: str) -> list[dict[str, Any]]:
        """The arguments of every call of the tool ``name``, in order."""
        return [dict(call.arguments) for call in self.log if call.name == name]

    @property
    def outcome(self) -> str | None:
        ends = self.called(tools.END_CALL)
        outcome = ends[-1].get("outcome") if ends else None
        return outcome if isinstance(outcome, str) else None
