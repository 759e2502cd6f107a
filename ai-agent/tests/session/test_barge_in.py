"""Barge-in over the fake media endpoint: the person speaking over the agent stops the agent's audio at
once (what Asterisk had queued is flushed), and the person's turn is answered."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx

from ai_agent.calendar import Calendar
from ai_agent.llm.testing import ChatServer, text
from ai_agent.media.testing import FakeMediaEndpoint, speech
from ai_agent.session.conversation import REPROMPT_LINE

from .conftest import LONG_ANSWER, QUICK, STOP_WITHIN, ScriptedSpeechToText, chat_model, conversation_on


async def test_speaking_over_the_agent_stops_it_at_once(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text(LONG_ANSWER), text("Of course, go ahead."))
    stt = ScriptedSpeechToText("Wait I have a question.")
    async with conversation_on(endpoint, model=chat_model(http, chat), stt=stt, calendar=calendar) as call:
        async with asyncio.timeout(5):
            await endpoint.wait_for_audio()
        await endpoint.silence(1.0)
        spoke = await endpoint.say(speech("Wait I have a question."))
        quiet = asyncio.create_task(endpoint.silence(10.0))
        async with asyncio.timeout(10):
            await endpoint.wait_for("MARK_MEDIA", count=2)  # the answer to the question
            await endpoint.wait_played_out()
        await endpoint.hang_up()
        quiet.cancel()
        await call.ended()
    flush = endpoint.command_named("FLUSH_MEDIA")[0]
    assert 0 <= flush.at - spoke <= STOP_WITHIN
    assert endpoint.audio_stopped_after(spoke) - spoke <= STOP_WITHIN
    interrupted, question, answer = call.sink.turns
    assert interrupted.speaker == "agent" and interrupted.interrupted
    # what was played before the person cut in (about a second of it), not the whole answer
    assert interrupted.text.startswith("Hi, this is Alex") and interrupted.text.endswith("—")
    assert chat.requests[1].messages[-2] == {"role": "assistant", "content": interrupted.text}
    assert (question.speaker, question.text) == ("person", "Wait I have a question.")
    assert (answer.speaker, answer.text, answer.interrupted) == ("agent", "Of course, go ahead.", False)
    assert chat.requests[1].messages[-1] == {"role": "user", "content": "Wait I have a question."}


async def test_after_a_barge_in_the_model_knows_only_what_was_heard(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text(LONG_ANSWER), text("Sure."))
    stt = ScriptedSpeechToText("Sorry who is this?")
    async with conversation_on(endpoint, model=chat_model(http, chat), stt=stt, calendar=calendar) as call:
        async with asyncio.timeout(5):
            await endpoint.wait_for_audio()
        await endpoint.silence(0.5)
        await endpoint.say(speech("Sorry who is this?"))
        quiet = asyncio.create_task(endpoint.silence(10.0))
        async with asyncio.timeout(10):
            while len(chat.requests) < 2:
                await asyncio.sleep(0.05)
        await endpoint.hang_up()
        quiet.cancel()
        await call.ended()
    heard = len(endpoint.agent_audio()) / 32000
    assert heard < 3.0, "the third sentence was never played"
    said = [m["content"] for m in chat.requests[1].messages if m["role"] == "assistant"]
    assert said and "half an hour" not in said[-1]
    assert "half an hour" not in call.sink.turns[0].text


async def test_speaking_over_the_reprompt_stops_it_at_once(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text("Hi, this is Alex."), text("Good. Let me explain."))
    stt = ScriptedSpeechToText("Yes I am here.")
    settings = dataclasses.replace(QUICK, reprompts=1)
    model = chat_model(http, chat)
    async with conversation_on(endpoint, model=model, stt=stt, calendar=calendar, settings=settings) as call:
        async with asyncio.timeout(5):
            await endpoint.wait_for("MARK_MEDIA")
            await endpoint.wait_played_out()
            await endpoint.wait_for_audio()  # the re-prompt starts
        spoke = await endpoint.say(speech("Yes I am here."))
        await endpoint.silence(1.0)
        await endpoint.hang_up()
        await call.ended()
    assert endpoint.command_named("FLUSH_MEDIA"), "the re-prompt's queued audio was not flushed"
    assert endpoint.audio_stopped_after(spoke) - spoke <= STOP_WITHIN
    [cut] = [turn for turn in call.sink.turns if turn.speaker == "agent" and turn.interrupted]
    assert REPROMPT_LINE.startswith(cut.text.removesuffix(" —"))  # what was heard of it, if anything
