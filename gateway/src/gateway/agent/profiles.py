"""Public routes of agent profiles, the system prompt and voices, forwarded to the ai-agent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from dialplane.api.agent import (
    AGENT_PROFILE,
    AGENT_PROFILES,
    DEFAULT_SYSTEM_PROMPT,
    PROFILE_NAME_PATTERN,
    SYSTEM_PROMPT,
    VOICE_PREVIEW,
    VOICES,
    AgentProfile,
    AgentProfileList,
    AgentProfileSettings,
    CreateAgentProfile,
    DefaultSystemPrompt,
    LanguageTag,
    SetSystemPrompt,
    SystemPrompt,
    UpdateAgentProfile,
    VoiceList,
    VoicePreviewQuery,
)
from dialplane.internal_auth import Principal
from gateway.agent.forward import WAV, AiAgentDep
from gateway.auth.dependencies import requires

router = APIRouter(tags=["agent"])

CanRead = Annotated[Principal, requires("agents:read")]
CanWrite = Annotated[Principal, requires("agents:write")]
ProfileName = Annotated[str, Path(pattern=PROFILE_NAME_PATTERN)]


@router.get(AGENT_PROFILES, response_model=AgentProfileList, summary="List agent profiles")
async def list_profiles(request: Request, principal: CanRead, agent: AiAgentDep) -> Response:
    return await agent.forward(request, principal)


@router.post(AGENT_PROFILES, status_code=201, response_model=AgentProfile, summary="Create an agent profile")
async def create_profile(
    _body: CreateAgentProfile, request: Request, principal: CanWrite, agent: AiAgentDep
) -> Response:
    return await agent.forward(request, principal)


@router.get(AGENT_PROFILE, response_model=AgentProfile, summary="An agent profile")
async def get_profile(name: ProfileName, request: Request, principal: CanRead, agent: AiAgentDep) -> Response:
    return await agent.forward(request, principal)


@router.put(AGENT_PROFILE, response_model=AgentProfile, summary="Replace an agent profile's settings")
async def replace_profile(
    name: ProfileName,
    _body: AgentProfileSettings,
    request: Request,
    principal: CanWrite,
    agent: AiAgentDep,
) -> Response:
    return await agent.forward(request, principal)


@router.patch(AGENT_PROFILE, response_model=AgentProfile, summary="Change some settings of an agent profile")
async def update_profile(
    name: ProfileName,
    _body: UpdateAgentProfile,
    request: Request,
    principal: CanWrite,
    agent: AiAgentDep,
) -> Response:
    return await agent.forward(request, principal)


@router.delete(AGENT_PROFILE, status_code=204, response_class=Response, summary="Delete an agent profile")
async def delete_profile(
    name: ProfileName, request: Request, principal: CanWrite, agent: AiAgentDep
) -> Response:
    return await agent.forward(request, principal)


@router.get(SYSTEM_PROMPT, response_model=SystemPrompt, summary="The active system prompt")
async def get_system_prompt(request: Request, principal: CanRead, agent: AiAgentDep) -> Response:
    return await agent.forward(request, principal)


@router.put(SYSTEM_PROMPT, response_model=SystemPrompt, summary="Set the active system prompt")
async def set_system_prompt(
    _body: SetSystemPrompt, request: Request, principal: CanWrite, agent: AiAgentDep
) -> Response:
    return await agent.forward(request, principal)


@router.delete(SYSTEM_PROMPT, response_model=SystemPrompt, summary="Make the default prompt active again")
async def reset_system_prompt(request: Request, principal: CanWrite, agent: AiAgentDep) -> Response:
    return await agent.forward(request, principal)


@router.get(DEFAULT_SYSTEM_PROMPT, response_model=DefaultSystemPrompt, summary="The default system prompt")
async def get_default_system_prompt(request: Request, principal: CanRead, agent: AiAgentDep) -> Response:
    return await agent.forward(request, principal)


@router.get(VOICES, response_model=VoiceList, summary="The voices of the speech provider")
async def list_voices(
    request: Request,
    principal: CanRead,
    agent: AiAgentDep,
    _language: Annotated[LanguageTag | None, Query(alias="language")] = None,
) -> Response:
    return await agent.forward(request, principal)


@router.get(VOICE_PREVIEW, response_class=Response, responses=WAV, summary="A spoken sample of a voice")
async def preview_voice(
    voice_id: Annotated[str, Path(min_length=1, max_length=100)],
    _query: Annotated[VoicePreviewQuery, Query()],
    request: Request,
    principal: CanRead,
    agent: AiAgentDep,
) -> Response:
    return await agent.forward(request, principal)
