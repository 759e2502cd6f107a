"""Agent profiles: create, read, replace, change and delete them, checked against the ai-agent's own
configuration (the calendars it knows; the placeholders its prompts may use).

The request models check the shape of every field (tools known, language tags, lengths); here the checks
that need this process: the calendar must be one of those configured, and a profile's system prompt may use
only the placeholders the default prompt uses. The ``default`` profile is used by every agent call that names
none, so it can be changed but not deleted. Nothing here commits: the request's transaction does.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.profiles import repository
from ai_agent.profiles.errors import invalid_field, profile_not_found
from ai_agent.profiles.prompt import check_template, prompt_placeholders
from ai_agent.profiles.repository import ProfileRecord
from dialplane.api.agent import DEFAULT_PROFILE, AgentProfileSettings, CreateAgentProfile, UpdateAgentProfile
from dialplane.errors import Conflict

log = structlog.get_logger(__name__)


class ProfileService:
    def __init__(self, calendars: Set[str]) -> None:
        self._calendars = calendars

    async def list_profiles(self, session: AsyncSession) -> list[ProfileRecord]:
        return await repository.list_all(session)

    async def get(self, session: AsyncSession, name: str) -> ProfileRecord:
        profile = await repository.get(session, name)
        if profile is None:
            raise profile_not_found(name)
        return profile

    async def create(self, session: AsyncSession, body: CreateAgentProfile) -> ProfileRecord:
        """The new profile; 409 ``profile_exists`` if the name is taken."""
        values = self._checked(body.model_dump(exclude={"name"}))
        profile = await repository.insert(session, body.name, values)
        if profile is None:
            raise Conflict(f"an agent profile named {body.name!r} exists already", code="profile_exists")
        log.info("agent_profile_created", profile=profile.name)
        return profile

    async def replace(self, session: AsyncSession, name: str, body: AgentProfileSettings) -> ProfileRecord:
        """Every setting replaced (those left out of the request take their defaults)."""
        return await self._update(session, name, self._checked(body.model_dump()))

    async def update(self, session: AsyncSession, name: str, body: UpdateAgentProfile) -> ProfileRecord:
        """Only the settings the request gives changed."""
        return await self._update(session, name, self._checked(body.changes()))

    async def delete(self, session: AsyncSession, name: str) -> None:
        if name == DEFAULT_PROFILE:
            raise Conflict(
                "the default profile is used by calls that name none; it can be changed, not deleted",
                code="default_profile",
            )
        if not await repository.delete(session, name):
            raise profile_not_found(name)
        log.info("agent_profile_deleted", profile=name)

    async def _update(self, session: AsyncSession, name: str, changes: Mapping[str, Any]) -> ProfileRecord:
        profile = await repository.update(session, name, changes)
        if profile is None:
            raise profile_not_found(name)
        log.info("agent_profile_changed", profile=name, fields=sorted(changes))
        return profile

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        calendar = values.get("calendar")
        if calendar is not None and calendar not in self._calendars:
            known = ", ".join(sorted(self._calendars)) or "none"
            raise invalid_field("calendar", f"no calendar named {calendar!r}; configured: {known}")
        if values.get("system_prompt") is not None:
            check_template(values["system_prompt"], "system_prompt", prompt_placeholders())
        return values
