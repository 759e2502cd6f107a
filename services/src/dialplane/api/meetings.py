"""Public models of the meetings API (``/api/v1/meetings``): the meetings the AI agent booked.

The ai-agent serves these routes; the gateway declares them with the same models and forwards them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dialplane.api.calls import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Moment, Text
from dialplane.api.routes import API_PREFIX

MEETINGS = f"{API_PREFIX}/meetings"
MEETING = f"{MEETINGS}/{{meeting_id}}"

MeetingStatus = Literal["scheduled", "confirmed", "cancelled", "completed", "no_show"]
"""``scheduled`` and ``confirmed`` hold their time; the other three are final."""


class MeetingAttendee(BaseModel):
    name: str
    email: str | None
    phone: str | None


class Meeting(BaseModel):
    id: str = Field(description="opaque; a UUID for the built-in calendar")
    calendar: str
    start: datetime
    end: datetime
    status: MeetingStatus
    attendee: MeetingAttendee
    title: str
    description: str | None
    link: str | None = Field(description="where to meet, when the calendar makes a link")
    call_id: str | None = Field(description="the call during which it was booked")
    time_zone: str = Field(description="the calendar's zone when it was booked")
    created_at: datetime


class MeetingList(BaseModel):
    items: list[Meeting] = Field(description="by start time, earliest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")


class ListMeetingsQuery(BaseModel):
    """Query of ``GET /api/v1/meetings``: by start time, earliest first."""

    model_config = ConfigDict(populate_by_name=True)

    status: list[MeetingStatus] | None = None
    from_: Moment | None = Field(default=None, alias="from", description="meetings starting at or after")
    to: Moment | None = Field(default=None, description="meetings starting before")
    call_id: Text | None = Field(default=None, min_length=1, max_length=100)
    calendar: Text | None = Field(default=None, min_length=1, max_length=100)
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)


class UpdateMeetingRequest(BaseModel):
    """``PATCH /api/v1/meetings/{id}``: a new status (cancelling frees the meeting's time)."""

    model_config = ConfigDict(extra="forbid")

    status: MeetingStatus
