"""The policy's answers to tool results: what to say once the calendar, the booking, the call back, the
opt-out or the transfer has answered.

A failed opt-out, call back or calendar check is retried once without a word (the same call again); a
second failure is said plainly. A failed booking is never retried (the slot may have been taken): the
nearest free times are looked up instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Final

from ai_agent.llm import policy_tools as tools
from ai_agent.llm.policy_state import Phase, Reply, ToolResult, parse_time
from ai_agent.llm.policy_turns import Dialogue
from ai_agent.llm.policy_when import Request, at

_RETRIED: Final = frozenset({tools.CHECK_AVAILABILITY, tools.SCHEDULE_CALLBACK, tools.OPT_OUT})
_SPREAD: Final = dt.timedelta(hours=2)


def on_results(d: Dialogue, results: Sequence[ToolResult]) -> Reply:
    """The answer to a batch of tool results (the policy calls one tool at a time; ``end_call`` is left
    unanswered)."""
    answered = [result for result in results if result.name != tools.END_CALL]
    if not answered or d.state.ended:
        return Reply()
    result = answered[-1]
    failures = d.state.failures
    failures[result.name] = 0 if result.ok else failures.get(result.name, 0) + 1
    if not result.ok and result.name in _RETRIED and failures[result.name] == 1:
        return Reply((), ((result.name, dict(result.arguments)),))
    handler = _HANDLERS.get(result.name)
    return handler(d, result) if handler is not None else Reply()


def _availability(d: Dialogue, result: ToolResult) -> Reply:
    s = d.state
    start, end = _local(d, result.arguments.get("start")), _local(d, result.arguments.get("end"))
    if not result.ok or start is None or end is None:
        s.phase, s.interested = Phase.ASK_CALLBACK, True
        return Reply(("I'm sorry, I can't see the calendar right now.", d.lines.ask_callback()))
    slots = [slot for slot in result.slots(d.now) if slot > d.now]
    if end - start <= d.length + dt.timedelta(minutes=1):
        available = result.data.get("available")
        if available is True or (available is None and start in slots):
            return d.slot_free(start)
        return _look_around(d, start, [slot for slot in slots if slot != start], "isn't available")
    if s.taken is not None:
        wanted, s.taken = s.taken, None
        return d.offer(_nearest(slots, wanted))
    if not slots:
        s.phase, s.offered = Phase.ASK_TIME, []
        return Reply(d.lines.nothing_on(start))
    return d.offer(_spread(slots))


def _look_around(d: Dialogue, wanted: dt.datetime, slots: list[dt.datetime], why: str) -> Reply:
    """``wanted`` is not free: offer the nearest of ``slots``, or ask the calendar around it."""
    sorry = f"I'm sorry, that time {why}."
    if slots:
        return d.offer(_nearest(slots, wanted), preface=(sorry,))
    d.state.taken = wanted
    day = at(wanted.date(), dt.time(0), wanted)
    around = Request(max(day, d.now), day + dt.timedelta(days=2), exact=False)
    return Reply((sorry, "Let me look for the nearest free times."), (d.availability_call(around),))


def _booking(d: Dialogue, result: ToolResult) -> Reply:
    s = d.state
    start, email = _local(d, result.arguments.get("start")), result.arguments.get("email")
    s.email = email if isinstance(email, str) else None
    if start is None:
        return d.unclear()
    if result.ok:
        s.booked = True
        return d.close(d.lines.booked(start, s.email), "meeting_booked", "meeting booked")
    s.slot = None
    if result.data.get("reason") == "taken" or result.slots(d.now):
        alternatives = [slot for slot in result.slots(d.now) if slot != start and slot > d.now]
        return _look_around(d, start, alternatives, "was just taken")
    s.phase = Phase.ASK_TIME
    return Reply(("I'm sorry, I couldn't book that time.", d.lines.ask_time(other=True)))


def _callback(d: Dialogue, result: ToolResult) -> Reply:
    when = _local(d, result.arguments.get("callback_at"))
    if not result.ok or when is None:
        return d.close(d.lines.call_us_back(), "callback_requested", f"scheduling failed: {result.error}")
    d.state.callback = True
    return d.close(d.lines.callback_confirmed(when), "callback_requested", "call back scheduled")


def _opt_out(d: Dialogue, result: ToolResult) -> Reply:
    d.state.opted_out = True
    if not result.ok:
        reason = f"the opt_out tool failed ({result.error}): add the number to the do-not-call list"
        return d.close(d.lines.opt_out_failed(), "opted_out", reason)
    return d.close(d.lines.opted_out(), "opted_out", "the lead opted out")


def _transfer(d: Dialogue, result: ToolResult) -> Reply:
    return Reply() if result.ok else d.nobody_available()


_HANDLERS: Final[dict[str, Callable[[Dialogue, ToolResult], Reply]]] = {
    tools.CHECK_AVAILABILITY: _availability,
    tools.BOOK_MEETING: _booking,
    tools.SCHEDULE_CALLBACK: _callback,
    tools.OPT_OUT: _opt_out,
    tools.TRANSFER_TO_HUMAN: _transfer,
}


def _local(d: Dialogue, value: object) -> dt.datetime | None:
    moment = parse_time(value)
    return moment.astimezone(d.now.tzinfo) if moment is not None else None


def _nearest(slots: list[dt.datetime], wanted: dt.datetime, count: int = 2) -> list[dt.datetime]:
    """The ``count`` slots nearest to ``wanted``, in time order."""
    return sorted(sorted(slots, key=lambda slot: abs(slot - wanted))[:count])


def _spread(slots: list[dt.datetime]) -> list[dt.datetime]:
    """The first free slot and one at least two hours later (or simply the next)."""
    first = slots[0]
    later = next(
        (slot for slot in slots[1:] if slot >= first + _SPREAD), slots[1] if len(slots) > 1 else None
    )
    return [first] if later is None else [first, later]
