"""How a meeting is shown by the API."""

from __future__ import annotations

from ai_agent.calendar import Meeting
from dialplane.api.meetings import Meeting as MeetingView
from dialplane.api.meetings import MeetingAttendee


def meeting_view(meeting: Meeting) -> MeetingView:
    attendee = meeting.attendee
    return MeetingView(
        id=meeting.id,
        calendar=meeting.calendar,
        start=meeting.start,
        end=meeting.end,
        status=meeting.status.value,
        attendee=MeetingAttendee(name=attendee.name, email=attendee.email, phone=attendee.phone),
        title=meeting.title,
        description=meeting.description,
        link=meeting.link,
        call_id=meeting.call_id,
        time_zone=meeting.time_zone,
        created_at=meeting.created_at,
    )
