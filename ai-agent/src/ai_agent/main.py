"""The ai-agent service application: its API (profiles, the system prompt, voices, meetings, and what each
conversation left), and the calendars meetings are booked in, made in ``lifespan()``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ai_agent.api import routers
from ai_agent.calendar.registry import build_calendars, close_calendars
from ai_agent.session.service import conversation_engine
from ai_agent.settings import Settings
from dialplane.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def agent(app: FastAPI) -> AsyncIterator[None]:
        app.state.calendars = build_calendars(settings.calendars, app.state.sessions)
        try:
            async with conversation_engine(app, settings):
                yield
        finally:
            await close_calendars(app.state.calendars)

    return create_service_app(settings, title="Dialplane AI agent", routers=routers, extra_lifespan=agent)
