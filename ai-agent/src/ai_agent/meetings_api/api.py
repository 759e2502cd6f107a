"""The meetings API (``/api/v1/meetings``), reached through the gateway with a signed principal header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ai_agent.calendar import MeetingStatus
from ai_agent.dependencies import MeetingServiceDep
from ai_agent.meetings_api.views import meeting_view
from dialplane.api.meetings import (
    MEETING,
    MEETINGS,
    ListMeetingsQuery,
    Meeting,
    MeetingList,
    UpdateMeetingRequest,
)
from dialplane.db import SessionDep
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["meetings"])

MeetingId = Annotated[str, Path(min_length=1, max_length=200)]


@router.get(MEETINGS, response_model=MeetingList)
async def list_meetings(
    _: Annotated[Principal, requires("meetings:read")],
    query: Annotated[ListMeetingsQuery, Query()],
    session: SessionDep,
    service: MeetingServiceDep,
) -> MeetingList:
    """Meetings by start time, earliest first, a page at a time (``next_cursor``)."""
    page = await service.list_meetings(session, query)
    return MeetingList(items=[meeting_view(m) for m in page.items], next_cursor=page.next_cursor)


@router.get(MEETING, response_model=Meeting)
async def get_meeting(
    _: Annotated[Principal, requires("meetings:read")],
    meeting_id: MeetingId,
    session: SessionDep,
    service: MeetingServiceDep,
) -> Meeting:
    return meeting_view(await service.get(session, meeting_id))


@router.patch(MEETING, response_model=Meeting)
async def update_meeting(
    _: Annotated[Principal, requires("meetings:write")],
    meeting_id: MeetingId,
    body: UpdateMeetingRequest,
    session: SessionDep,
    service: MeetingServiceDep,
) -> Meeting:
    """Change the status (409 ``invalid_status_change`` for a move the calendar does not allow)."""
    return meeting_view(await service.set_status(session, meeting_id, MeetingStatus(body.status)))
