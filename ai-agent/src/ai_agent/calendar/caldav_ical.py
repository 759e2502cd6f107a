"""iCalendar (RFC 5545) for the CalDAV provider, with ``icalendar``: the event written for a meeting, the
same event cancelled, and the busy time of the events a server returns.

Busy time: an event blocks unless it is ``STATUS:CANCELLED`` or ``TRANSP:TRANSPARENT``. Times with a TZID
are read in that zone (an IANA name, or the event's own VTIMEZONE); floating times and all-day dates are
read in the calendar's zone, an all-day event holding its whole days; an event without DTEND lasts its
DURATION, one day for a date, no time for a date-time (and so blocks nothing). Recurring events come
expanded from the server (``<C:expand>`` in the query); a server that ignores it sends the master event
with its RRULE, which is then expanded here (RRULE, RDATE, EXDATE, and instances overridden by a
RECURRENCE-ID in the same resource).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from dateutil.rrule import rruleset, rrulestr  # type: ignore[import-untyped]  # icalendar's dependency
from icalendar import Calendar, Event, vCalAddress
from icalendar.enums import STATUS, TRANSP

from ai_agent.calendar.interface import Meeting
from ai_agent.calendar.rules import Busy

PRODID = "-//Dialplane//Calendar//EN"
Instant = dt.date | dt.datetime


def event_document(meeting: Meeting, *, stamp: dt.datetime) -> bytes:
    """The VCALENDAR of ``meeting``: UID = the meeting's id, times in UTC, the link as LOCATION and URL
    and in the description, the attendee (``mailto:``, else ``tel:``) without an ORGANIZER, so that no
    server sends invitations on its own."""
    event = Event.new(
        uid=meeting.id,
        stamp=stamp,
        start=meeting.start,
        end=meeting.end,
        summary=meeting.title,
        description=describe(meeting),
        location=meeting.link,
        url=meeting.link,
        status=STATUS.CONFIRMED,
        sequence=0,
        attendees=_attendees(meeting),
    )
    document: bytes = Calendar.new(prodid=PRODID, uid=meeting.id, subcomponents=[event]).to_ical()
    return document


def describe(meeting: Meeting) -> str:
    """The text of a server event's description: the meeting's, the link, and who it is with."""
    attendee = meeting.attendee
    contact = ", ".join(part for part in (attendee.name, attendee.email, attendee.phone) if part)
    lines = [meeting.description or "", f"Join: {meeting.link}" if meeting.link else "", f"With: {contact}"]
    return "\n\n".join(line for line in lines if line)


def _attendees(meeting: Meeting) -> list[vCalAddress]:
    attendee = meeting.attendee
    if attendee.email:
        address = vCalAddress.new(attendee.email, cn=attendee.name, role="REQ-PARTICIPANT", rsvp=False)
    elif attendee.phone:
        address = vCalAddress(f"tel:{attendee.phone}")
        address.params["CN"] = attendee.name
    else:
        return []
    return [address]


def is_cancelled(document: bytes) -> bool:
    events = Calendar.from_ical(document).events
    return bool(events) and all(event.status == STATUS.CANCELLED for event in events)


def cancelled_document(document: bytes, *, stamp: dt.datetime) -> bytes:
    """``document`` with every VEVENT ``STATUS:CANCELLED``, its SEQUENCE raised and DTSTAMP renewed."""
    calendar = Calendar.from_ical(document)
    for event in calendar.events:
        event.status = STATUS.CANCELLED
        event.sequence = event.sequence + 1
        event.DTSTAMP = stamp
    cancelled: bytes = calendar.to_ical()
    return cancelled


def busy_times(documents: Iterable[str], zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[Busy]:
    """The busy time of the events in ``documents`` (VCALENDARs) overlapping ``[start, end)``, in order.
    Raises ``ValueError`` (or ``TypeError``) for a document that is not valid iCalendar."""
    busy = [interval for document in documents for interval in _document_busy(document, zone, start, end)]
    return sorted(busy, key=lambda interval: (interval.start, interval.until))


def _document_busy(document: str, zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> Iterator[Busy]:
    events = Calendar.from_ical(document).events
    overridden = {_utc(event.RECURRENCE_ID, zone) for event in events if event.RECURRENCE_ID is not None}
    for event in events:
        if event.status == STATUS.CANCELLED or event.transparency == TRANSP.TRANSPARENT:
            continue
        for opens, closes in _occurrences(event, zone, start, end, overridden):
            if opens < end and start < closes:
                yield Busy(opens, closes)


def _occurrences(
    event: Event, zone: ZoneInfo, start: dt.datetime, end: dt.datetime, overridden: set[dt.datetime]
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    first, length = _utc(event.start, zone), _utc(event.end, zone) - _utc(event.start, zone)
    if length <= dt.timedelta(0):
        return
    if not event.rrules or event.RECURRENCE_ID is not None:
        yield first, first + length
        return
    for at in _expand(event, zone, start - length, end):
        if at not in overridden:
            yield at, at + length


def _expand(event: Event, zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Starts (UTC) of a master event's instances in ``[start, end]``, computed in the event's wall time so
    that DST changes keep them at the same local time."""
    origin = _rule_time(event.start)
    rules = rruleset()
    for recur in event.rrules:
        rules.rrule(rrulestr(recur.to_ical().decode(), dtstart=origin))
    for value in event.rdates:
        rules.rdate(_rule_time(value[0] if isinstance(value, tuple) else value))
    for value in event.exdates:
        rules.exdate(_rule_time(value))
    low, high = (_like(origin, bound, zone) for bound in (start, end))
    return [_utc(at, zone) for at in rules.between(low, high, inc=True)]


def _rule_time(value: Instant) -> dt.datetime:
    """A recurrence's time as dateutil needs it: dates at midnight, floating times naive, others aware."""
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _like(origin: dt.datetime, bound: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """``bound`` (UTC) comparable with ``origin``: naive local time when ``origin`` is naive."""
    return bound if origin.tzinfo is not None else bound.astimezone(zone).replace(tzinfo=None)


def _utc(value: Instant, zone: ZoneInfo) -> dt.datetime:
    """An iCalendar time as a UTC instant; dates and floating times are read in ``zone``."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)
