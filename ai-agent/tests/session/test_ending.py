"""How calls end over the fake media endpoint: the agent ends it (hung up only once its goodbye was heard),
the person presses the opt-out key, or the person hangs up in the middle of saying something that still
counts ("please do not call me again")."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx

from ai_agent.calendar import Calendar
from ai_agent.llm.testing import ChatServer, text, tool_call, tool_calls
from ai_agent.media.testing import FakeMediaEndpoint, speech
from ai_agent.session.conversation import OPTED_OUT_LINE
from ai_agent.stt.whisper import WhisperSpeechToText

from .conftest import (
    AGENT_WPM,
    LONG_ANSWER,
    QUICK,
    STOP_WITHIN,
    ScriptedSpeechToText,
    chat_model,
    conversation_on,
    policy,
)

DO_NOT_CALL = "Please do not call me again."


def words(sentence: str) -> str:
    return "".join(c for c in sentence.lower() if c.isalpha() or c == " ").strip()


async def test_end_call_hangs_up_after_the_goodbye_was_heard(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    goodbye = ["Thank you for your time. ", "Goodbye."]
    end = tool_call("end_call", {"outcome": "not_interested", "reason": "the lead is busy"})
    chat.script(tool_calls(end, text=goodbye))
    model = chat_model(http, chat)
    async with conversation_on(endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar) as call:
        await call.ended(within=10)
    hangup = endpoint.command_named("HANGUP")[0]
    processed = [at for at, notice in endpoint.notices if notice.startswith("MEDIA_MARK_PROCESSED")]
    assert processed and processed[0] <= hangup.at
    assert (endpoint.last_played_at or 0) <= hangup.at and endpoint.dropped_at_hangup == 0
    spoken = len(speech("".join(goodbye), voice="en-us", speed_wpm=AGENT_WPM)) / 32000
    assert len(endpoint.agent_audio()) / 32000 >= 0.9 * spoken, "the whole goodbye was played"
    assert [(t.text, t.tool_calls) for t in call.sink.turns] == [("".join(goodbye).strip(), ("end_call",))]
    assert (call.conversation.ended_by, call.decisions.outcome) == ("agent", "not_interested")
    assert len(call.hang_ups) == 1 and len(chat.requests) == 1


async def test_the_opt_out_key_stops_the_agent_and_ends_the_call(
    endpoint: FakeMediaEndpoint, calendar: Calendar, chat: ChatServer, http: httpx.AsyncClient
) -> None:
    chat.script(text(LONG_ANSWER))
    model = chat_model(http, chat)
    async with conversation_on(endpoint, model=model, stt=ScriptedSpeechToText(), calendar=calendar) as call:
        async with asyncio.timeout(5):
            await endpoint.wait_for_audio()
        await asyncio.sleep(1.0)
        pressed = time.monotonic()
        await endpoint.press("9")
        await call.ended(within=10)
    flush = endpoint.command_named("FLUSH_MEDIA")[0]
    assert 0 <= flush.at - pressed <= STOP_WITHIN
    heard_after = len(endpoint.agent_audio(since=pressed)) / 32000
    confirmation = len(speech(OPTED_OUT_LINE, voice="en-us", speed_wpm=AGENT_WPM)) / 32000
    assert heard_after <= confirmation + STOP_WITHIN, "only the confirmation was heard after the key"
    assert call.decided == ["opt_out"] and call.decisions.opted_out
    assert call.sink.turns[-1].text == OPTED_OUT_LINE
    assert endpoint.dropped_at_hangup == 0, "the confirmation is heard before the hang-up"
    assert call.conversation.ended_by == "opted_out"


async def test_hanging_up_right_after_asking_not_to_be_called_still_opts_out(
    endpoint: FakeMediaEndpoint, calendar: Calendar, whisper: WhisperSpeechToText
) -> None:
    settings = dataclasses.replace(QUICK, opening_wait_seconds=5.0)
    async with conversation_on(
        endpoint, model=policy(), stt=whisper, calendar=calendar, settings=settings
    ) as call:
        await endpoint.silence(0.3)
        await endpoint.say(speech(DO_NOT_CALL))
        await endpoint.hang_up()  # before the end of the turn could even be heard
        await call.ended(within=12)
    assert [words(t.text) for t in call.sink.of("person")] == [words(DO_NOT_CALL)]
    assert call.decided == ["opt_out"] and call.decisions.opted_out


async def test_hanging_up_mid_sentence_over_the_agent_still_opts_out(
    endpoint: FakeMediaEndpoint, calendar: Calendar, whisper: WhisperSpeechToText
) -> None:
    async with conversation_on(endpoint, model=policy(), stt=whisper, calendar=calendar) as call:
        async with asyncio.timeout(5):
            await endpoint.wait_for_audio()  # the agent's opening
        await endpoint.silence(1.0)
        await endpoint.say(speech(DO_NOT_CALL))
        await endpoint.hang_up()
        await call.ended(within=12)
    assert endpoint.command_named("FLUSH_MEDIA"), "the person spoke over the opening"
    assert [words(t.text) for t in call.sink.of("person")] == [words(DO_NOT_CALL)]
    assert call.decided == ["opt_out"] and call.decisions.opted_out
