"""Public routes of a call's conversation, transcript and recording (``calls:read``), forwarded to the
ai-agent, which holds them. The recording's audio passes through unchanged."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from dialplane.api.agent import CONVERSATION, RECORDING, TRANSCRIPT, Conversation, Transcript, TranscriptQuery
from dialplane.internal_auth import Principal
from gateway.agent.forward import AiAgentDep
from gateway.auth.dependencies import requires

router = APIRouter(tags=["calls"])

CanRead = Annotated[Principal, requires("calls:read")]
TEXT: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {}}}}
AUDIO: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/wav": {}}, "description": "the audio"}}


@router.get(CONVERSATION, response_model=Conversation, summary="A call's conversation with the agent")
async def get_conversation(
    call_id: UUID, request: Request, principal: CanRead, agent: AiAgentDep
) -> Response:
    return await agent.forward(request, principal)


@router.get(
    TRANSCRIPT,
    response_model=Transcript,
    responses=TEXT,
    summary="A call's transcript (JSON, or text with ?format=text or Accept: text/plain)",
)
async def get_transcript(
    call_id: UUID,
    _query: Annotated[TranscriptQuery, Query()],
    request: Request,
    principal: CanRead,
    agent: AiAgentDep,
) -> Response:
    return await agent.forward(request, principal)


@router.get(RECORDING, response_class=Response, responses=AUDIO, summary="A call's recording")
async def get_recording(call_id: UUID, request: Request, principal: CanRead, agent: AiAgentDep) -> Response:
    return await agent.forward(request, principal)
