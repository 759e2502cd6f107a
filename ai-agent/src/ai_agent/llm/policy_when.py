"""From what was read (:class:`~ai_agent.llm.policy_time.Moment`) to the times the tools get.

A meeting request is either one exact start ("tomorrow at ten") or a range to look for free slots in ("on
Tuesday": the meeting hours of that day; "tomorrow afternoon": noon to five). A call back is one time inside
the calling hours: afternoon means two, morning ten, evening six unless a time was given. All times are
aware, in the lead's zone; "now" is too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from ai_agent.llm.policy_time import Moment, Part

PART_RANGES: Final[dict[Part, tuple[dt.time, dt.time]]] = {
    "morning": (dt.time(9), dt.time(12)),
    "afternoon": (dt.time(12), dt.time(17)),
    "evening": (dt.time(17), dt.time(20)),
}
CALLBACK_CLOCK: Final[dict[Part, dt.time]] = {
    "morning": dt.time(10),
    "afternoon": dt.time(14),
    "evening": dt.time(18),
}
DEFAULT_CALLBACK_DELAY: Final = dt.timedelta(hours=2)
LAST_CALLBACK_BEFORE_CLOSE: Final = dt.timedelta(minutes=30)
Hours = tuple[dt.time, dt.time]


@dataclass(frozen=True, slots=True)
class Request:
    """What to ask the calendar: one exact start, or free slots in ``[start, end)``."""

    start: dt.datetime
    end: dt.datetime
    exact: bool


def at(day: dt.date, clock: dt.time, like: dt.datetime) -> dt.datetime:
    """``day`` at ``clock`` in the zone of ``like``."""
    return dt.datetime.combine(day, clock, tzinfo=like.tzinfo)


def later(moment: dt.datetime, delta: dt.timedelta, step_minutes: int = 15) -> dt.datetime:
    """``moment + delta`` (elapsed time, also across a DST change), rounded up to ``step_minutes``."""
    zone = moment.tzinfo
    instant = (moment.astimezone(dt.UTC) + delta).replace(second=0, microsecond=0)
    instant += dt.timedelta(minutes=-instant.minute % step_minutes)
    return instant.astimezone(zone)


def meeting_request(
    moment: Moment, now: dt.datetime, context_day: dt.date | None, hours: Hours, length: dt.timedelta
) -> Request | None:
    """The start or range a meeting request means; None when it is already past (a day was named)."""
    if moment.delay is not None:
        start = later(now, moment.delay)
        return Request(start, start + length, exact=True)
    day = moment.day or context_day or now.date()
    if moment.clock is not None:
        start = at(day, moment.clock, now)
        if start <= now and moment.day is None:
            start = at(now.date() + dt.timedelta(days=1), moment.clock, now)
        return Request(start, start + length, exact=True) if start > now else None
    opens, closes = PART_RANGES[moment.part] if moment.part else hours
    if at(day, closes, now) <= now:
        if moment.day is not None:
            return None
        day = now.date() + dt.timedelta(days=1)
    start = max(at(day, opens, now), later(now, dt.timedelta()))
    return Request(start, at(day, closes, now), exact=False)


def callback_time(moment: Moment | None, now: dt.datetime, hours: Hours) -> dt.datetime:
    """When to call back for what was said (None: nothing about when), inside the calling hours."""
    if moment is None or moment == Moment():
        return default_callback(now, hours)
    if moment.delay is not None:
        return _within_hours(later(now, moment.delay, 5), now, hours)
    day = moment.day or now.date()
    clock = moment.clock or (CALLBACK_CLOCK[moment.part] if moment.part else None)
    if clock is None:
        return default_callback(now, hours) if day == now.date() else at(day, dt.time(10), now)
    wanted = at(day, clock, now)
    if wanted <= now:
        explicit = moment.clock is not None or moment.day is not None
        wanted = at(day + dt.timedelta(days=1), clock, now) if explicit else later(now, dt.timedelta(hours=1))
    return _within_hours(wanted, now, hours)


def default_callback(now: dt.datetime, hours: Hours) -> dt.datetime:
    """Two hours from now if that is inside today's calling hours, else tomorrow at ten."""
    wanted = later(now, DEFAULT_CALLBACK_DELAY, 30)
    if wanted.date() == now.date() and _opens(wanted, hours) <= wanted <= _last(wanted, hours):
        return wanted
    return _within_hours(at(now.date() + dt.timedelta(days=1), dt.time(10), now), now, hours)


def _within_hours(wanted: dt.datetime, now: dt.datetime, hours: Hours) -> dt.datetime:
    """``wanted`` moved into its day's calling hours (the last call half an hour before they end)."""
    capped = min(max(wanted, _opens(wanted, hours)), _last(wanted, hours))
    if capped <= now:
        return at(now.date() + dt.timedelta(days=1), max(hours[0], dt.time(10)), now)
    return capped


def _opens(moment: dt.datetime, hours: Hours) -> dt.datetime:
    return at(moment.date(), hours[0], moment)


def _last(moment: dt.datetime, hours: Hours) -> dt.datetime:
    return at(moment.date(), hours[1], moment) - LAST_CALLBACK_BEFORE_CLOSE
