"""The conversation's tools, run for real: the calendar, call backs, opt-outs, transfers and hanging up.

:class:`ToolRunner` answers each :class:`~ai_agent.llm.types.ToolCall` with the JSON object the tools'
specs promise (:mod:`ai_agent.llm.policy_tools`); every failure is ``{"error": …}`` so the model can say
something sensible, never an exception into the conversation. What the tools decided (the meeting, the
call back, the opt-out, the transfer, the end of the call and its outcome) is kept in :class:`Decisions`.

Times without a UTC offset are read in the lead's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import Counter

from ai_agent.calendar import Attendee, Calendar, CalendarError, SlotUnavailableError
from ai_agent.llm import policy_tools as names
from ai_agent.llm.types import ToolCall
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

TOOL_NAMES = frozenset(spec.name for spec in names.TOOLS)

TOOL_CALLS = Counter(
    "agent_tool_calls_total",
    "Tool calls of the AI agent, by tool and result.",
    ["tool", "result"],
    namespace=NAMESPACE,
)


@dataclass
class Decisions:
    meeting_id: str | None = None
    meeting_start: dt.datetime | None = None
    attendee_email: str | None = None
    callback_at: dt.datetime | None = None
    callback_note: str | None = None
    opted_out: bool = False
    transferred: bool = False
    end_requested: bool = False
    outcome: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ToolContext:
    call_id: str
    to_number: str
    time_zone: str
    meeting_title: str
    transfer_destination: str | None


OnDecision = Callable[[str, Decisions], Awaitable[None]]
"""Called after opt_out and transfer_to_human succeed (the opt-out must reach the do-not-call list at once;
the transfer needs the bridge)."""


class ToolRunner:
    def __init__(self, context: ToolContext, calendar: Calendar, on_decision: OnDecision) -> None:
        self._context, self._calendar, self._on_decision = context, calendar, on_decision
        self._zone = ZoneInfo(context.time_zone)
        self.decisions = Decisions()

    async def run(self, call: ToolCall) -> dict[str, Any]:
        if call.arguments_error is not None:
            result: dict[str, Any] = {"error": f"invalid arguments: {call.arguments_error}"}
        else:
            handler = self._handlers().get(call.name)
            try:
                result = await handler(call.arguments) if handler else {"error": f"unknown tool {call.name}"}
            except (ValueError, TypeError, KeyError) as exc:
                result = {"error": f"invalid arguments: {exc}"}
            except CalendarError as exc:
                result = {"error": str(exc)}
        TOOL_CALLS.labels(
            call.name if call.name in TOOL_NAMES else "unknown", "error" if "error" in result else "ok"
        ).inc()
        log.info("agent_tool_call", tool=call.name, ok="error" not in result)
        return result

    def _handlers(self) -> Mapping[str, Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]]:
        return {
            names.CHECK_AVAILABILITY: self._availability,
            names.BOOK_MEETING: self._book,
            names.SCHEDULE_CALLBACK: self._callback,
            names.OPT_OUT: self._opt_out,
            names.TRANSFER_TO_HUMAN: self._transfer,
            names.END_CALL: self._end,
        }

    def _time(self, value: Any) -> dt.datetime:
        moment = dt.datetime.fromisoformat(str(value))
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self._zone)

    async def _availability(self, args: Mapping[str, Any]) -> dict[str, Any]:
        start, end = self._time(args["start"]), self._time(args["end"])
        length = dt.timedelta(minutes=int(args.get("duration_minutes", 30)))
        slots = await self._calendar.availability(start, end, duration=length)
        return {"slots": [{"start": self._local(s.start), "end": self._local(s.end)} for s in slots]}

    async def _book(self, args: Mapping[str, Any]) -> dict[str, Any]:
        start = self._time(args["start"])
        email = str(args["email"]) if args.get("email") else None
        attendee = Attendee(name=str(args["attendee_name"]), email=email, phone=self._context.to_number)
        length = dt.timedelta(minutes=int(args.get("duration_minutes", 30)))
        try:
            meeting = await self._calendar.book(
                start,
                attendee=attendee,
                title=self._context.meeting_title,
                duration=length,
                call_id=self._context.call_id,
            )
        except SlotUnavailableError as exc:
            return {"error": str(exc), "reason": exc.reason.value}
        self.decisions.meeting_id = meeting.id
        self.decisions.meeting_start = meeting.start.astimezone(self._zone)
        self.decisions.attendee_email = email
        return {
            "meeting_id": meeting.id,
            "start": self._local(meeting.start),
            "end": self._local(meeting.end),
            "link": meeting.link,
        }

    async def _callback(self, args: Mapping[str, Any]) -> dict[str, Any]:
        at = self._time(args["callback_at"])
        if at <= dt.datetime.now(dt.UTC):
            return {"error": "the call back time is in the past"}
        self.decisions.callback_at, self.decisions.callback_note = at, args.get("note")
        return {"scheduled": True, "callback_at": self._local(at)}

    async def _opt_out(self, args: Mapping[str, Any]) -> dict[str, Any]:
        self.decisions.opted_out = True
        await self._on_decision(names.OPT_OUT, self.decisions)
        return {"opted_out": True}

    async def _transfer(self, args: Mapping[str, Any]) -> dict[str, Any]:
        if not self._context.transfer_destination:
            return {"error": "nobody is available to take the call"}
        self.decisions.transferred = True
        await self._on_decision(names.TRANSFER_TO_HUMAN, self.decisions)
        return {"transferred": True}

    async def _end(self, args: Mapping[str, Any]) -> dict[str, Any]:
        outcome = args.get("outcome")
        self.decisions.end_requested = True
        self.decisions.outcome = str(outcome) if outcome in names.OUTCOMES else None
        self.decisions.reason = str(args["reason"]) if args.get("reason") else None
        return {"ok": True}

    def _local(self, moment: dt.datetime) -> str:
        return moment.astimezone(self._zone).isoformat()
