"""The forwarder to the ai-agent (made in the gateway's ``lifespan()``, see :mod:`gateway.calls.forward`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from gateway.calls.forward import Forwarder


async def ai_agent_forwarder(request: Request) -> Forwarder:
    forwarder: Forwarder = request.app.state.ai_agent
    return forwarder


AiAgentDep = Annotated[Forwarder, Depends(ai_agent_forwarder)]

WAV: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/wav": {}}, "description": "a WAV file"}}
