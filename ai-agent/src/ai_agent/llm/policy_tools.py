"""The tools of the meeting-booking conversation, as :class:`ToolSpec`\\ s for any language model.

The offline :class:`~ai_agent.llm.policy.DialoguePolicy` calls exactly these, with these arguments; the
conversation offers the same specs to a real LLM (with ``prompts/default_system_prompt.md``). Times are
ISO 8601 with the UTC offset of the lead's time zone (``2025-03-05T10:00:00-08:00``).

What the tools answer (the tool message's content, a JSON object; any failure as ``{"error": "…"}``):

- ``check_calendar_availability`` → ``{"slots": [{"start": ISO, "end": ISO}, …]}``: the free slots of
  ``duration_minutes`` inside ``[start, end)``, in order. ``"available": bool`` may be added; without it a
  slot starting at ``start`` means the exact time is free.
- ``book_meeting`` → ``{"meeting_id": …, "start": ISO, …}``; a refused time → ``{"error": …, "reason": …}``
  with the calendar's reason (``taken``, ``in_the_past``, ``too_soon``, ``beyond_horizon``,
  ``outside_working_hours``); ``"slots"`` may list the nearest free times.
- ``schedule_callback`` → ``{"scheduled": true, "callback_at": ISO}``.
- ``opt_out`` → ``{"opted_out": true}`` (the number is on the do-not-call list).
- ``transfer_to_human`` → ``{"transferred": true}``, or an error when nobody can take the call.
- ``end_call`` → anything: the call ends after the text of the same turn has been spoken.
"""

from __future__ import annotations

from typing import Any, Final

from ai_agent.llm.types import ToolSpec

CHECK_AVAILABILITY: Final = "check_calendar_availability"
BOOK_MEETING: Final = "book_meeting"
SCHEDULE_CALLBACK: Final = "schedule_callback"
TRANSFER_TO_HUMAN: Final = "transfer_to_human"
OPT_OUT: Final = "opt_out"
END_CALL: Final = "end_call"

OUTCOMES: Final = (
    "meeting_booked",
    "callback_requested",
    "opted_out",
    "not_interested",
    "interested",
    "transferred",
    "voicemail",
    "no_conversation",
)
"""How a call ended (``end_call``'s ``outcome``): ``interested`` = wanted a meeting but none was booked;
``no_conversation`` = the person never engaged (silence, unclear, hung up at the greeting)."""

_ISO = "ISO 8601 date and time with the UTC offset of the lead's time zone, e.g. 2025-03-05T10:00:00-08:00"


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


CHECK_AVAILABILITY_SPEC: Final = ToolSpec(
    name=CHECK_AVAILABILITY,
    description=(
        "List the free meeting slots between start and end, in the lead's time zone. To check one exact "
        "time, pass start = that time and end = start + duration_minutes. Returns "
        '{"slots": [{"start": ..., "end": ...}]} (an empty list: nothing free).'
    ),
    parameters=_object(
        {
            "start": {"type": "string", "format": "date-time", "description": f"Range start, {_ISO}."},
            "end": {"type": "string", "format": "date-time", "description": f"Range end, {_ISO}."},
            "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 240},
        },
        ["start", "end", "duration_minutes"],
    ),
)

BOOK_MEETING_SPEC: Final = ToolSpec(
    name=BOOK_MEETING,
    description=(
        "Book the meeting at a time the calendar reported free, and send the invitation to the email "
        "address if one is given. Call it only after the lead agreed to the time."
    ),
    parameters=_object(
        {
            "start": {"type": "string", "format": "date-time", "description": f"Meeting start, {_ISO}."},
            "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 240},
            "attendee_name": {"type": "string", "minLength": 1, "description": "The lead's name."},
            "email": {
                "type": "string",
                "format": "email",
                "description": "Where to send the invitation, written as an address (jane.doe@example.com).",
            },
        },
        ["start", "duration_minutes", "attendee_name"],
    ),
)

SCHEDULE_CALLBACK_SPEC: Final = ToolSpec(
    name=SCHEDULE_CALLBACK,
    description=(
        "Schedule a call back to the lead at the time they asked for (within calling hours, 8 am to 9 pm "
        "their time). Afternoon means 2 pm, morning 10 am, evening 6 pm unless they gave a time."
    ),
    parameters=_object(
        {
            "callback_at": {"type": "string", "format": "date-time", "description": f"When, {_ISO}."},
            "note": {"type": "string", "description": "What the lead said, for whoever calls back."},
        },
        ["callback_at"],
    ),
)

TRANSFER_TO_HUMAN_SPEC: Final = ToolSpec(
    name=TRANSFER_TO_HUMAN,
    description="Transfer the call to a person on the team when the lead asks to talk to a human.",
    parameters=_object({"reason": {"type": "string"}}, ["reason"]),
)

OPT_OUT_SPEC: Final = ToolSpec(
    name=OPT_OUT,
    description=(
        "Put the lead's number on the do-not-call list at once: when they say stop, remove me, do not call "
        "me, or press 9. Then confirm briefly and end the call (outcome opted_out)."
    ),
    parameters=_object({"reason": {"type": "string", "description": "What the lead said."}}, []),
)

END_CALL_SPEC: Final = ToolSpec(
    name=END_CALL,
    description="Hang up after the text of this turn has been spoken. Say goodbye in the same turn.",
    parameters=_object(
        {
            "outcome": {"type": "string", "enum": list(OUTCOMES)},
            "reason": {"type": "string", "description": "A short summary for the call record."},
        },
        ["outcome"],
    ),
)

TOOLS: Final = (
    CHECK_AVAILABILITY_SPEC,
    BOOK_MEETING_SPEC,
    SCHEDULE_CALLBACK_SPEC,
    TRANSFER_TO_HUMAN_SPEC,
    OPT_OUT_SPEC,
    END_CALL_SPEC,
)
"""Every tool of the meeting-booking conversation, in the order they are offered."""
