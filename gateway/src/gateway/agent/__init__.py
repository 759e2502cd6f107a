"""The AI agent's public routes: profiles, the system prompt and voices (``agents:*``), meetings
(``meetings:*``), and a call's conversation, transcript and recording (``calls:read``). Declared here with the
shared models (:mod:`dialplane.api.agent`, :mod:`dialplane.api.meetings`), forwarded to the ai-agent."""

from gateway.agent import conversations, meetings, profiles

routers = [profiles.router, meetings.router, conversations.router]

__all__ = ["routers"]
