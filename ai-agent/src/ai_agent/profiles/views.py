"""How profiles and the system prompt are shown by the API."""

from __future__ import annotations

from dataclasses import asdict

from ai_agent.profiles.prompt import ActivePrompt
from ai_agent.profiles.repository import ProfileRecord
from dialplane.api.agent import AgentProfile, SystemPrompt


def profile_view(profile: ProfileRecord) -> AgentProfile:
    return AgentProfile.model_validate(asdict(profile))


def prompt_view(active: ActivePrompt) -> SystemPrompt:
    return SystemPrompt(prompt=active.prompt, is_default=active.is_default, updated_at=active.updated_at)
