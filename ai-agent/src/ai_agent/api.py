"""The ai-agent's HTTP API: every router it serves (on loopback, behind the gateway)."""

from __future__ import annotations

from fastapi import APIRouter

from ai_agent.conversations import api as conversations
from ai_agent.meetings_api import api as meetings
from ai_agent.profiles import api as profiles
from ai_agent.profiles import voices

routers: list[APIRouter] = [profiles.router, voices.router, meetings.router, conversations.router]
