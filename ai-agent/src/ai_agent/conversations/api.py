"""A call's conversation, transcript and recording (``/api/v1/calls/{call_id}/…``), reached through the
gateway with a signed principal header; readable with ``calls:read``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import PlainTextResponse

from ai_agent.conversations import service
from ai_agent.conversations.views import conversation_view, prefers_text, transcript_view
from dialplane.api.agent import CONVERSATION, RECORDING, TRANSCRIPT, Conversation, Transcript, TranscriptQuery
from dialplane.db import SessionDep
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["conversations"])

CanRead = Annotated[Principal, requires("calls:read")]
TEXT_TRANSCRIPT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"example": "Agent: Hello, this is Alex.\nPerson: Hi.\n"}}}
}
AUDIO: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/wav": {}}, "description": "the audio"}}


@router.get(CONVERSATION, response_model=Conversation)
async def get_conversation(_: CanRead, call_id: uuid.UUID, session: SessionDep) -> Conversation:
    """What the agent said and heard, how the call ended, and the meeting it booked."""
    return conversation_view(await service.details(session, call_id))


@router.get(TRANSCRIPT, response_model=Transcript, responses=TEXT_TRANSCRIPT)
async def get_transcript(
    _: CanRead,
    call_id: uuid.UUID,
    query: Annotated[TranscriptQuery, Query()],
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """JSON by default; plain text (``Agent: …`` lines) with ``?format=text`` or ``Accept: text/plain``."""
    conversation, turns = await service.transcript(session, call_id)
    as_text = query.format == "text" or (query.format is None and prefers_text(accept))
    if as_text:
        return PlainTextResponse(service.transcript_text(turns))
    body = transcript_view(conversation, turns).model_dump_json()
    return Response(body, media_type="application/json")


@router.get(RECORDING, response_class=Response, responses=AUDIO)
async def get_recording(_: CanRead, call_id: uuid.UUID, session: SessionDep) -> Response:
    """The call's recording (404 ``recording_not_found`` if there is none)."""
    stored = await service.recording(session, call_id)
    return Response(stored.audio, media_type=stored.content_type)
