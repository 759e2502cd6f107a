"""Public routes of the meetings the agent booked, forwarded to the ai-agent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from dialplane.api.meetings import (
    MEETING,
    MEETINGS,
    ListMeetingsQuery,
    Meeting,
    MeetingList,
    UpdateMeetingRequest,
)
from dialplane.internal_auth import Principal
from gateway.agent.forward import AiAgentDep
from gateway.auth.dependencies import requires

router = APIRouter(tags=["meetings"])

CanRead = Annotated[Principal, requires("meetings:read")]
CanWrite = Annotated[Principal, requires("meetings:write")]
MeetingId = Annotated[str, Path(min_length=1, max_length=200)]


@router.get(MEETINGS, response_model=MeetingList, summary="List meetings, earliest first")
async def list_meetings(
    _query: Annotated[ListMeetingsQuery, Query()], request: Request, principal: CanRead, agent: AiAgentDep
) -> Response:
    return await agent.forward(request, principal)


@router.get(MEETING, response_model=Meeting, summary="A meeting")
async def get_meeting(
    meeting_id: MeetingId, request: Request, principal: CanRead, agent: AiAgentDep
) -> Response:
    return await agent.forward(request, principal)


@router.patch(MEETING, response_model=Meeting, summary="Change a meeting's status")
async def update_meeting(
    meeting_id: MeetingId,
    _body: UpdateMeetingRequest,
    request: Request,
    principal: CanWrite,
    agent: AiAgentDep,
) -> Response:
    return await agent.forward(request, principal)
