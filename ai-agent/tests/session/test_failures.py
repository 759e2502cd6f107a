"""Providers failing during a call: a language model that cannot answer gets spoken fallback lines (then
the call is ended politely), and a speech provider that fails is replaced by the fallback voice."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import numpy as np
import pytest

from ai_agent.calendar import Calendar
from ai_agent.llm.testing import ChatServer, HttpError, text
from ai_agent.media.testing import FakeMediaEndpoint, speech
from ai_agent.session.responding import FALLBACK_LINE, GIVE_UP_LINE
from ai_agent.testing import FakeTextToSpeech
from ai_agent.tts.espeak import EspeakTextToSpeech
from ai_agent.tts.types import TtsError

from .conftest import AGENT_WPM, QUICK, ScriptedSpeechToText, chat_model, conversation_on


def loudness(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


@pytest.mark.slow
async def test_a_failing_model_gets_the_fallback_line_then_the_give_up_line_and_an_end(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.otherwise = HttpError(500, "scripted outage")
    model = chat_model(http, chat, max_retries=1)
    stt = ScriptedSpeechToText("Hello are you there?")
    settings = dataclasses.replace(QUICK, silence_seconds=5.0)
    async with conversation_on(endpoint, model=model, stt=stt, calendar=calendar, settings=settings) as call:
        async with asyncio.timeout(10):
            await endpoint.wait_for("MARK_MEDIA")
            await endpoint.wait_played_out()
        await endpoint.say(speech("Hello are you there?"))
        quiet = asyncio.create_task(endpoint.silence(15.0))
        await call.ended(within=15)
        quiet.cancel()
    assert [(t.speaker, t.text) for t in call.sink.turns] == [
        ("agent", FALLBACK_LINE),
        ("person", "Hello are you there?"),
        ("agent", GIVE_UP_LINE),
    ]
    assert len(chat.requests) == 4  # each turn: the request and its one retry
    assert call.decisions.end_requested and call.conversation.ended_by == "agent"
    assert endpoint.dropped_at_hangup == 0, "the give-up line is heard to its end before the hang-up"


async def test_a_failing_voice_is_replaced_by_the_fallback_voice(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text("Hello from the fallback voice."))
    broken = FakeTextToSpeech(failure=TtsError("the provider is down", retryable=True))
    fallback = EspeakTextToSpeech(speed_wpm=AGENT_WPM)
    model = chat_model(http, chat)
    async with conversation_on(
        endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar, tts=broken, fallback=fallback
    ) as call:
        async with asyncio.timeout(5):
            await endpoint.wait_for("MARK_MEDIA")
            await endpoint.wait_played_out()
        await endpoint.hang_up()
        await call.ended()
    assert [(t.speaker, t.text) for t in call.sink.turns] == [("agent", "Hello from the fallback voice.")]
    heard = endpoint.agent_audio()
    assert len(heard) / 32000 >= 1.0 and loudness(heard) > 500, "the person heard the sentence"


@pytest.mark.slow
async def test_a_voice_failing_without_fallback_does_not_leave_dead_air(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text("Hello."))
    broken = FakeTextToSpeech(failure=TtsError("espeak-ng failed"))
    model = chat_model(http, chat)
    async with conversation_on(
        endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar, tts=broken
    ) as call:
        quiet = asyncio.create_task(endpoint.silence(5.0))
        async with asyncio.timeout(5):
            await endpoint.wait_for("HANGUP")  # the call is ended rather than left silent
        quiet.cancel()
        await call.ended()
