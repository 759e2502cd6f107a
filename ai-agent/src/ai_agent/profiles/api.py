"""Agent profiles (``/api/v1/agent-profiles``) and the active system prompt
(``/api/v1/settings/system-prompt``), reached through the gateway with a signed principal header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from ai_agent.dependencies import ProfileServiceDep
from ai_agent.profiles import prompt
from ai_agent.profiles.views import profile_view, prompt_view
from dialplane.api.agent import (
    AGENT_PROFILE,
    AGENT_PROFILES,
    DEFAULT_SYSTEM_PROMPT,
    PROFILE_NAME_PATTERN,
    SYSTEM_PROMPT,
    AgentProfile,
    AgentProfileList,
    AgentProfileSettings,
    CreateAgentProfile,
    DefaultSystemPrompt,
    SetSystemPrompt,
    SystemPrompt,
    UpdateAgentProfile,
)
from dialplane.db import SessionDep
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["agent"])

CanRead = Annotated[Principal, requires("agents:read")]
CanWrite = Annotated[Principal, requires("agents:write")]
ProfileName = Annotated[str, Path(pattern=PROFILE_NAME_PATTERN)]


@router.get(AGENT_PROFILES, response_model=AgentProfileList)
async def list_profiles(_: CanRead, session: SessionDep, service: ProfileServiceDep) -> AgentProfileList:
    return AgentProfileList(items=[profile_view(p) for p in await service.list_profiles(session)])


@router.post(AGENT_PROFILES, status_code=201, response_model=AgentProfile)
async def create_profile(
    _: CanWrite, body: CreateAgentProfile, response: Response, session: SessionDep, service: ProfileServiceDep
) -> AgentProfile:
    """201 with the profile; 409 ``profile_exists``; 422 naming the field for an unknown calendar."""
    profile = await service.create(session, body)
    response.headers["Location"] = AGENT_PROFILE.format(name=profile.name)
    return profile_view(profile)


@router.get(AGENT_PROFILE, response_model=AgentProfile)
async def get_profile(
    _: CanRead, name: ProfileName, session: SessionDep, service: ProfileServiceDep
) -> AgentProfile:
    return profile_view(await service.get(session, name))


@router.put(AGENT_PROFILE, response_model=AgentProfile)
async def replace_profile(
    _: CanWrite,
    name: ProfileName,
    body: AgentProfileSettings,
    session: SessionDep,
    service: ProfileServiceDep,
) -> AgentProfile:
    """Replace every setting of an existing profile (fields left out take their defaults)."""
    return profile_view(await service.replace(session, name, body))


@router.patch(AGENT_PROFILE, response_model=AgentProfile)
async def update_profile(
    _: CanWrite,
    name: ProfileName,
    body: UpdateAgentProfile,
    session: SessionDep,
    service: ProfileServiceDep,
) -> AgentProfile:
    """Change the settings given (``null`` clears a nullable one)."""
    return profile_view(await service.update(session, name, body))


@router.delete(AGENT_PROFILE, status_code=204, response_class=Response)
async def delete_profile(
    _: CanWrite, name: ProfileName, session: SessionDep, service: ProfileServiceDep
) -> Response:
    """204; 409 ``default_profile`` for the default profile."""
    await service.delete(session, name)
    return Response(status_code=204)


@router.get(SYSTEM_PROMPT, response_model=SystemPrompt)
async def get_system_prompt(_: CanRead, session: SessionDep) -> SystemPrompt:
    """The active global prompt (profiles without a prompt of their own use it)."""
    return prompt_view(await prompt.current(session))


@router.put(SYSTEM_PROMPT, response_model=SystemPrompt)
async def set_system_prompt(_: CanWrite, body: SetSystemPrompt, session: SessionDep) -> SystemPrompt:
    """Set the active prompt (422 naming ``prompt`` for an unknown ``$placeholder``)."""
    return prompt_view(await prompt.set_prompt(session, body.prompt))


@router.delete(SYSTEM_PROMPT, response_model=SystemPrompt)
async def reset_system_prompt(_: CanWrite, session: SessionDep) -> SystemPrompt:
    """Make the default prompt active again; answers the prompt now active."""
    return prompt_view(await prompt.reset(session))


@router.get(DEFAULT_SYSTEM_PROMPT, response_model=DefaultSystemPrompt)
async def get_default_system_prompt(_: CanRead) -> DefaultSystemPrompt:
    """The prompt that ships with the ai-agent."""
    return DefaultSystemPrompt(prompt=prompt.default_system_prompt())
