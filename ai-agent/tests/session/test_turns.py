"""Turn-taking over the fake media endpoint: who speaks first, silence, the maximum duration, and the agent
never hearing itself."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx
import pytest

from ai_agent.calendar import Calendar
from ai_agent.llm.testing import ChatServer, text
from ai_agent.media.testing import FakeMediaEndpoint, speech
from ai_agent.session.conversation import REPROMPT_LINE, SILENCE_GOODBYE_LINE, TIME_UP_LINE
from ai_agent.stt.whisper import WhisperSpeechToText

from .conftest import AGENT_WPM, QUICK, ScriptedSpeechToText, chat_model, conversation_on, policy

OPENING = "Hi, this is Alex from Acme."


def seconds_of_agent_speech(line: str) -> float:
    return len(speech(line, voice="en-us", speed_wpm=AGENT_WPM)) / 32000


async def test_the_agent_opens_when_nobody_speaks(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text("Hi, this is Alex ", "from Acme."))
    started = time.monotonic()
    model = chat_model(http, chat)
    async with conversation_on(endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar) as call:
        async with asyncio.timeout(5):
            first_audio = await endpoint.wait_for_audio()  # the far end sends nothing at all meanwhile
            await endpoint.wait_for("MARK_MEDIA")
            await endpoint.wait_played_out()
        await endpoint.hang_up()
        await call.ended()
    assert QUICK.opening_wait_seconds <= first_audio - started <= QUICK.opening_wait_seconds + 1.5
    assert [m["role"] for m in chat.requests[0].messages] == ["system"]
    assert [(t.speaker, t.text) for t in call.sink.turns] == [("agent", OPENING)]
    assert call.conversation.ended_by == "person"


async def test_a_hello_is_answered_with_the_opening(
    endpoint: FakeMediaEndpoint, calendar: Calendar, whisper: WhisperSpeechToText
) -> None:
    settings = dataclasses.replace(QUICK, opening_wait_seconds=5.0)  # the agent must answer, not time out
    async with conversation_on(
        endpoint, model=policy(), stt=whisper, calendar=calendar, settings=settings
    ) as call:
        await endpoint.silence(0.3)
        hello = speech("Hello?")
        await endpoint.say(hello)
        said = time.monotonic()
        quiet = asyncio.create_task(endpoint.silence(4.0))
        async with asyncio.timeout(5):
            first_audio = await endpoint.wait_for_audio()
        quiet.cancel()
        await endpoint.hang_up()  # in the middle of the opening
        await call.ended()
    person, agent = call.sink.of("person"), call.sink.of("agent")
    assert [turn.text.strip("?.!").lower() for turn in person] == ["hello"]
    assert agent[0].text.startswith("Hello Sam, this is Alex, an automated assistant calling for Acme.")
    assert first_audio - said < 3.0, "end of the person's speech to the agent's first audio"
    assert call.sink.turns[0].speaker == "person"


@pytest.mark.slow
async def test_silence_gets_a_reprompt_then_a_goodbye_and_a_hang_up(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text(OPENING))
    model = chat_model(http, chat)
    async with conversation_on(endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar) as call:
        quiet = asyncio.create_task(endpoint.silence(15.0))  # a line that stays open, nobody talking
        await call.ended(within=15)
        quiet.cancel()
    assert [t.text for t in call.sink.turns] == [OPENING, REPROMPT_LINE, SILENCE_GOODBYE_LINE]
    assert call.conversation.ended_by == "silence"
    opening_end = call.sink.turns[0].ended
    assert 0.9 <= call.sink.turns[1].started - opening_end <= 1.6, "the re-prompt after silence_seconds"
    hangup = endpoint.wait_for("HANGUP")
    async with asyncio.timeout(1):
        assert (await hangup).at >= (endpoint.last_played_at or 0)
    assert endpoint.dropped_at_hangup == 0, "the goodbye is heard to its end"
    assert len(call.hang_ups) == 1


@pytest.mark.slow
async def test_the_maximum_duration_ends_the_call_with_the_time_up_line(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text(OPENING))
    settings = dataclasses.replace(QUICK, silence_seconds=30.0, max_duration_seconds=2.5)
    model = chat_model(http, chat)
    started = time.monotonic()
    async with conversation_on(
        endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar, settings=settings
    ) as call:
        await call.ended(within=10)
    assert [t.text for t in call.sink.turns] == [OPENING, TIME_UP_LINE]
    assert call.conversation.ended_by == "max_duration"
    assert 2.5 <= call.sink.turns[1].started - started <= 3.5
    assert endpoint.dropped_at_hangup == 0 and len(call.hang_ups) == 1


@pytest.mark.slow
async def test_the_time_up_line_does_not_wait_for_the_rest_of_a_long_answer(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    long_answer = " ".join(["I am calling about a short meeting with our team next week."] * 2)
    chat.script(text(long_answer))  # about five seconds of speech, all queued at once
    settings = dataclasses.replace(QUICK, silence_seconds=30.0, max_duration_seconds=2.0)
    model = chat_model(http, chat)
    started = time.monotonic()
    async with conversation_on(
        endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar, settings=settings
    ) as call:
        await call.ended(within=20)
    assert call.sink.turns[-1].text == TIME_UP_LINE
    time_up = seconds_of_agent_speech(TIME_UP_LINE)
    assert call.hang_ups[0] - started <= 2.0 + time_up + 1.0, "the call outlived its maximum duration"


async def test_the_agent_never_hears_itself(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text("Hi, this is Alex from Acme. ", "I am calling about a short meeting next week."))
    model = chat_model(http, chat)
    async with conversation_on(endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar) as call:
        quiet = asyncio.create_task(endpoint.silence(10.0))  # a silent line: only the agent speaks
        async with asyncio.timeout(10):
            await endpoint.wait_for("MARK_MEDIA")
            await endpoint.wait_played_out()
        await endpoint.hang_up()
        quiet.cancel()
        await call.ended()
    assert endpoint.command_named("FLUSH_MEDIA") == []
    assert call.conversation.person_turns == 0
    [turn] = call.sink.turns
    assert not turn.interrupted
    assert len(endpoint.played) == len(endpoint.received_sizes), "every frame the agent sent was heard"


@pytest.mark.slow
async def test_a_silence_after_an_answered_reprompt_gets_a_reprompt_again(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text(OPENING), text("Great."))
    model = chat_model(http, chat)
    stt = ScriptedSpeechToText("Yes.")
    async with conversation_on(endpoint, model=model, stt=stt, calendar=calendar) as call:
        async with asyncio.timeout(10):
            await endpoint.wait_for("MARK_MEDIA", count=2)  # the opening, then the re-prompt
            await endpoint.wait_played_out()
        await endpoint.say(speech("Yes."))
        quiet = asyncio.create_task(endpoint.silence(15.0))
        async with asyncio.timeout(10):
            while len(call.sink.turns) < 5:  # the answer, then what the next silence gets
                await asyncio.sleep(0.05)
        await endpoint.hang_up()
        quiet.cancel()
        await call.ended()
    lines = [t.text for t in call.sink.turns]
    assert lines[:4] == [OPENING, REPROMPT_LINE, "Yes.", "Great."]
    assert lines[4] == REPROMPT_LINE
