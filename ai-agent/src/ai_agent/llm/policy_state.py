"""The state of a conversation as the policy derives it from the messages, and the tool results it reads.

The policy keeps nothing between calls: it replays the messages each time (its own earlier decisions are
deterministic, so replaying them rebuilds the same state), taking the facts — which tools were called with
which arguments, what they answered — from the messages themselves.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ai_agent.llm.types import Message, ToolCall

_SLOT_KEYS = ("slots", "free_slots", "available_slots", "alternatives")
_FAILED_FLAGS = ("ok", "success", "booked", "scheduled", "opted_out", "transferred")


class Phase(StrEnum):
    """What the agent asked last, so what an answer is an answer to."""

    START = "start"  # nothing said yet
    INTEREST = "interest"  # greeted: would you be interested in a meeting?
    ASK_TIME = "ask_time"  # what day and time would suit you?
    OFFERED = "offered"  # I have X or Y: which?
    ASK_EMAIL = "ask_email"  # where should I send the invitation?
    SPELL_EMAIL = "spell_email"  # could you spell it?
    ASK_CALLBACK = "ask_callback"  # when should we call you back?


@dataclass(frozen=True, slots=True)
class Reply:
    """One turn of the policy: sentences to speak, then tool calls (name, arguments)."""

    sentences: tuple[str, ...] = ()
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()


@dataclass(slots=True)
class State:
    phase: Phase = Phase.START
    greeted: bool = False
    interested: bool = False
    declined: bool = False
    slot: dt.datetime | None = None  # a free start the lead agreed to, awaiting the booking
    offered: list[dt.datetime] = field(default_factory=list)
    taken: dt.datetime | None = None  # the time they wanted, not free: alternatives are being looked up
    context_day: dt.date | None = None  # the day under discussion ("how about three?" means that day)
    email: str | None = None
    unclear: int = 0  # clarifying questions in a row
    booked: bool = False
    callback: bool = False
    opted_out: bool = False
    ended: bool = False
    failures: dict[str, int] = field(default_factory=dict)  # failed results in a row, per tool
    calls: dict[str, ToolCall] = field(default_factory=dict)  # every tool call made, by id

    def record(self, message: Message) -> None:
        """Take the facts of an assistant message: it spoke (so the lead was greeted), its tool calls."""
        if message.content:
            self.greeted = True
        for call in message.tool_calls:
            self.calls[call.id] = call
            if call.name == "end_call":
                self.ended = True


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool message read back: which call it answers, whether it worked, its JSON object."""

    name: str
    arguments: Mapping[str, Any]
    ok: bool
    data: Mapping[str, Any]
    error: str | None = None

    def slots(self, like: dt.datetime) -> list[dt.datetime]:
        """The slot starts in the result (in the zone of ``like``), in order."""
        starts: list[dt.datetime] = []
        for key in _SLOT_KEYS:
            items = self.data.get(key)
            for item in items if isinstance(items, list) else []:
                value = item.get("start") if isinstance(item, Mapping) else item
                if isinstance(value, str) and (moment := parse_time(value)) is not None:
                    starts.append(moment.astimezone(like.tzinfo))
        return sorted(set(starts))


def read_result(message: Message, calls: Mapping[str, ToolCall]) -> ToolResult:
    call = calls.get(message.tool_call_id or "")
    name = call.name if call is not None else message.name or ""
    arguments = call.arguments if call is not None else {}
    text = (message.content or "").strip()
    try:
        parsed: Any = json.loads(text) if text else {}
    except ValueError:
        failed = text.lower().startswith(("error", "failed", "failure"))
        return ToolResult(name, arguments, not failed, {}, text if failed else None)
    data: Mapping[str, Any] = parsed if isinstance(parsed, Mapping) else {"slots": parsed}
    error = data.get("error")
    failed = bool(error) or any(data.get(flag) is False for flag in _FAILED_FLAGS)
    return ToolResult(name, arguments, not failed, data, str(error) if error else None)


def parse_time(value: object) -> dt.datetime | None:
    """An ISO 8601 time with an offset (UTC if it has none), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
