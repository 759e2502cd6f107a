"""Dependencies of the ai-agent's API: the resources made in ``lifespan()`` (its calendars, its speech
provider) and the services built on them. Tests override :func:`get_calendars` and
:func:`get_text_to_speech`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request

from ai_agent.calendar import Calendar
from ai_agent.meetings_api.service import MeetingService
from ai_agent.profiles.service import ProfileService
from ai_agent.tts import TextToSpeech
from dialplane.errors import ServiceUnavailable


async def get_calendars(request: Request) -> Mapping[str, Calendar]:
    """The calendars meetings are booked in, by name (``app.state.calendars``)."""
    calendars: Mapping[str, Calendar] = request.app.state.calendars
    return calendars


async def get_text_to_speech(request: Request) -> TextToSpeech:
    """The speech provider (``app.state.text_to_speech``); 503 while the service has none."""
    provider: TextToSpeech | None = getattr(request.app.state, "text_to_speech", None)
    if provider is None:
        raise ServiceUnavailable(
            "no text-to-speech provider is running in the ai-agent", code="text_to_speech_unavailable"
        )
    return provider


CalendarsDep = Annotated[Mapping[str, Calendar], Depends(get_calendars)]
TextToSpeechDep = Annotated[TextToSpeech, Depends(get_text_to_speech)]


async def get_profile_service(calendars: CalendarsDep) -> ProfileService:
    return ProfileService(frozenset(calendars))


async def get_meeting_service(calendars: CalendarsDep) -> MeetingService:
    return MeetingService(calendars)


ProfileServiceDep = Annotated[ProfileService, Depends(get_profile_service)]
MeetingServiceDep = Annotated[MeetingService, Depends(get_meeting_service)]
