"""The booking rules, apart from storage: working hours in the calendar's zone, minimum notice, horizon, the
slot grid, and the buffer after each meeting. The built-in provider applies them to the meetings it reads
from PostgreSQL; a CalDAV provider can apply them to the busy times its server reports.

All arithmetic is on UTC instants. Local wall time only places each day's working windows, so a DST change
makes that day's windows an hour shorter or longer; slots never shift. (Python adds a ``timedelta`` to an
aware datetime in wall time — across a DST change that is not the instant one means — hence :func:`utc`.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ai_agent.calendar.interface import Slot, SlotUnavailableError, UnavailableReason, require_aware
from ai_agent.calendar.settings import CalendarSettings

Clock = Callable[[], dt.datetime]
Window = tuple[dt.datetime, dt.datetime]  # UTC [start, end)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc(value: dt.datetime, name: str = "datetime") -> dt.datetime:
    """``value`` (which must be aware) as the same instant in UTC."""
    require_aware(value, name)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Busy:
    """Time a meeting holds: from its start to its end plus the buffer after it (``blocked_until``)."""

    start: dt.datetime
    until: dt.datetime


def clashes(start: dt.datetime, end: dt.datetime, busy: Busy, buffer: dt.timedelta) -> bool:
    """Would a meeting ``[start, end)``, followed by its own buffer, overlap ``busy``? The same test as the
    database's exclusion constraint: ``[start, end + buffer)`` and ``[busy.start, busy.until)`` overlap."""
    return start < busy.until and busy.start < end + buffer


def windows_between(settings: CalendarSettings, start: dt.datetime, end: dt.datetime) -> Iterator[Window]:
    """The working windows (UTC) of every local day from the day of ``start`` to the day of ``end``."""
    zone = settings.zone
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    while day <= last:
        for window in settings.windows_on(day):
            yield _instant(day, window.start, settings), _instant(day, window.end, settings)
        day += dt.timedelta(days=1)


def _instant(day: dt.date, time: dt.time, settings: CalendarSettings) -> dt.datetime:
    # A wall time skipped by a DST change maps forward by the size of the gap (fold=0, PEP 495).
    return dt.datetime.combine(day, time, tzinfo=settings.zone).astimezone(dt.UTC)


def candidates(
    settings: CalendarSettings, now: dt.datetime, start: dt.datetime, end: dt.datetime, length: dt.timedelta
) -> Iterator[Slot]:
    """Slots of ``length`` on the grid of each working window (from the window's start, every
    ``slot_length``) inside ``[start, end)``, past the minimum notice and starting within the horizon."""
    earliest, latest = max(utc(start, "start"), now + settings.minimum_notice), now + settings.horizon
    end = min(utc(end, "end"), latest + length)
    for opens, closes in windows_between(settings, earliest, end):
        at = opens
        while at + length <= closes and at <= latest:
            if at >= earliest and at + length <= end:
                yield Slot(at, at + length)
            at += settings.slot_length


def free_slots(
    settings: CalendarSettings,
    now: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    length: dt.timedelta,
    busy: Iterable[Busy],
) -> list[Slot]:
    """:func:`candidates` that clash with no busy time."""
    held = list(busy)
    return [
        slot
        for slot in candidates(settings, now, start, end, length)
        if not any(clashes(slot.start, slot.end, b, settings.buffer) for b in held)
    ]


def check_bookable(
    settings: CalendarSettings, now: dt.datetime, start: dt.datetime, end: dt.datetime
) -> None:
    """Raise :class:`SlotUnavailableError` if the rules refuse ``[start, end)`` (other meetings aside)."""
    if start < now:
        raise SlotUnavailableError(UnavailableReason.IN_THE_PAST)
    if start < now + settings.minimum_notice:
        notice = in_words(settings.minimum_notice)
        raise SlotUnavailableError(UnavailableReason.TOO_SOON, f"meetings need {notice} notice")
    if start > now + settings.horizon:
        horizon = in_words(settings.horizon)
        raise SlotUnavailableError(
            UnavailableReason.BEYOND_HORIZON, f"meetings can be booked {horizon} ahead"
        )
    if not any(opens <= start and end <= closes for opens, closes in windows_between(settings, start, start)):
        raise SlotUnavailableError(UnavailableReason.OUTSIDE_WORKING_HOURS, _outside_hours(settings, start))


def _outside_hours(settings: CalendarSettings, start: dt.datetime) -> str:
    local = start.astimezone(settings.zone)
    windows = ", ".join(str(window) for window in settings.windows_on(local.date()))
    hours = f"working hours are {windows}" if windows else "there are no working hours that day"
    return f"{local:%A %H:%M} ({settings.time_zone}) is outside working hours: {hours}"


def in_words(span: dt.timedelta) -> str:
    """``1 hour``, ``90 minutes``, ``30 days``: for messages the agent may read out."""
    minutes = int(span.total_seconds() // 60)
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
