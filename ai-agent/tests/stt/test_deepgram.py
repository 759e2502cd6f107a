"""DeepgramStreaming against the local live-streaming server over a real WebSocket: the stream it opens,
turns ended by Finalize, keep-alives, closing, and connections that drop or are refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from ai_agent.stt.deepgram import DeepgramSession, DeepgramStreaming
from ai_agent.stt.testing import DeepgramServer, Said, finalized, frames
from ai_agent.stt.types import SttError, SttTimeoutError

KEY = "dg-test-key"  # the server fixture's
RATE = 8_000


def audio(seconds: float, seed: int = 1) -> bytes:
    samples = np.random.default_rng(seed).integers(-9_000, 9_000, int(seconds * RATE))
    return samples.astype("<i2").tobytes()


def make_engine(server: DeepgramServer, **options: Any) -> DeepgramStreaming:
    defaults: dict[str, Any] = {"api_key": KEY, "base_url": server.url, "backoff_base": 0.01}
    return DeepgramStreaming(**(defaults | options))


@pytest_asyncio.fixture
async def session(deepgram_server: DeepgramServer) -> AsyncIterator[DeepgramSession]:
    opened = await make_engine(deepgram_server).open(sample_rate=RATE, language="en-US")
    yield opened
    await opened.close()


async def say(session: DeepgramSession, pcm: bytes, pace: float = 0.0) -> None:
    for frame in frames(pcm, RATE):
        await session.feed(frame)
        await asyncio.sleep(pace)


async def test_the_stream_is_opened_for_raw_pcm_with_the_key(
    session: DeepgramSession, deepgram_server: DeepgramServer
) -> None:
    [stream] = deepgram_server.streams
    assert stream.path == "/v1/listen"
    assert stream.query == {
        "encoding": "linear16",
        "sample_rate": "8000",
        "channels": "1",
        "language": "en-US",
        "model": "nova-3",
        "punctuate": "true",
        "interim_results": "true",
    }
    assert stream.authorization == f"Token {KEY}"


async def test_a_turn_joins_the_final_transcripts_and_ignores_interim_ones(
    session: DeepgramSession, deepgram_server: DeepgramServer
) -> None:
    deepgram_server.script(finalized("Can we meet", "on Friday morning?", interim=["Can we meat on"]))
    spoken = audio(1.0)
    await say(session, spoken)
    transcript = await session.end_of_turn()
    assert transcript.text == "Can we meet on Friday morning?"
    assert transcript.language == "en"
    assert transcript.confidence == 0.98
    [stream] = deepgram_server.streams
    assert stream.audio == spoken, "the audio goes out as fed, byte for byte"
    assert stream.count("Finalize") == 1


async def test_turns_do_not_share_text(session: DeepgramSession, deepgram_server: DeepgramServer) -> None:
    deepgram_server.script(finalized("Friday works."), finalized("At ten, please."))
    await say(session, audio(0.6))
    assert (await session.end_of_turn()).text == "Friday works."
    await say(session, audio(0.8, seed=2))
    assert (await session.end_of_turn()).text == "At ten, please."


async def test_a_discarded_false_start_is_left_out(
    session: DeepgramSession, deepgram_server: DeepgramServer
) -> None:
    # 0.5 s discarded, then 1 s of turn: Deepgram hears both, one result straddling the boundary
    deepgram_server.script(
        finalized(Said("Uh,", start=0.0, end=0.3), Said("hmm can we meet", start=0.3, end=1.1), "on Friday?")
    )
    await say(session, audio(0.5))
    await session.discard()
    await say(session, audio(1.0, seed=3))
    assert (await session.end_of_turn()).text == "can we meet on Friday?"


async def test_a_turn_without_audio_asks_nothing(
    session: DeepgramSession, deepgram_server: DeepgramServer
) -> None:
    assert (await session.end_of_turn()).text == ""
    await say(session, audio(0.06))  # a click: Deepgram might not even answer a Finalize
    assert (await session.end_of_turn()).text == ""
    assert deepgram_server.streams[0].count("Finalize") == 0
    deepgram_server.script(finalized("Yes."))
    await say(session, audio(0.3))
    assert (await session.end_of_turn()).text == "Yes."


async def test_keepalives_go_out_only_while_no_audio_does(deepgram_server: DeepgramServer) -> None:
    stt = make_engine(deepgram_server, keepalive_interval=0.15)
    session = await stt.open(sample_rate=RATE, language="en")
    await asyncio.sleep(0.65)
    stream = deepgram_server.streams[0]
    idle = stream.count("KeepAlive")
    await say(session, audio(0.6), pace=0.02)  # real time: a frame every 20 ms
    talking = stream.count("KeepAlive") - idle
    await session.close()
    assert idle >= 3
    assert talking <= 1  # at most one tick raced the first frame


async def test_close_ends_the_stream_with_closestream(deepgram_server: DeepgramServer) -> None:
    session = await make_engine(deepgram_server).open(sample_rate=RATE, language="en")
    await session.close()
    await session.close()
    stream = deepgram_server.streams[0]
    await asyncio.wait_for(stream.ended.wait(), 2)
    assert stream.messages[-1] == {"type": "CloseStream"}
    assert stream.count("CloseStream") == 1
    with pytest.raises(SttError):
        await session.end_of_turn()


async def test_a_drop_mid_turn_reconnects_and_loses_nothing(
    session: DeepgramSession, deepgram_server: DeepgramServer
) -> None:
    deepgram_server.drop_after(0.5)
    deepgram_server.script(finalized("Tuesday at three works for me."))
    spoken = audio(1.2)
    await say(session, spoken, pace=0.005)
    assert (await session.end_of_turn()).text == "Tuesday at three works for me."
    first, second = deepgram_server.streams
    assert first.seconds < 1.2
    assert second.audio == spoken, "the new connection gets the whole turn, once"
    assert second.authorization == f"Token {KEY}"


async def test_a_drop_at_the_end_of_the_turn_is_recovered(
    session: DeepgramSession, deepgram_server: DeepgramServer
) -> None:
    spoken = audio(0.6)
    deepgram_server.drop_after(0.6)  # on the last frame, before Finalize
    deepgram_server.script(finalized("Yes."))
    await say(session, spoken)
    assert (await session.end_of_turn()).text == "Yes."
    assert deepgram_server.streams[-1].audio == spoken


async def test_a_drop_between_turns_is_repaired_while_idle(deepgram_server: DeepgramServer) -> None:
    session = await make_engine(deepgram_server, keepalive_interval=0.1).open(sample_rate=RATE, language="en")
    deepgram_server.script(finalized("Hello."), finalized("Goodbye."))
    await say(session, audio(0.3))
    assert (await session.end_of_turn()).text == "Hello."
    deepgram_server.drop_now()
    await asyncio.sleep(0.4)
    assert len(deepgram_server.streams) == 2, "reconnected before the person speaks again"
    await say(session, audio(0.4, seed=4))
    assert (await session.end_of_turn()).text == "Goodbye."
    assert deepgram_server.streams[-1].audio == audio(0.4, seed=4)
    await session.close()


async def test_finals_that_cover_the_turn_need_no_confirmation(deepgram_server: DeepgramServer) -> None:
    deepgram_server.script(finalized("Friday morning.", confirm=False))
    session = await make_engine(deepgram_server, finalize_timeout=3).open(sample_rate=RATE, language="en")
    await say(session, audio(0.5))
    started = time.monotonic()
    assert (await session.end_of_turn()).text == "Friday morning."
    assert time.monotonic() - started < 1
    await session.close()


async def test_an_unconfirmed_turn_falls_back_to_what_was_heard(deepgram_server: DeepgramServer) -> None:
    deepgram_server.script(finalized(interim=["Friday at"], confirm=False))
    session = await make_engine(deepgram_server, finalize_timeout=0.3).open(sample_rate=RATE, language="en")
    await say(session, audio(0.5))
    assert (await session.end_of_turn()).text == "Friday at"
    await session.close()


async def test_silence_from_the_server_times_out(deepgram_server: DeepgramServer) -> None:
    deepgram_server.script(finalized(confirm=False))
    session = await make_engine(deepgram_server, finalize_timeout=0.3).open(sample_rate=RATE, language="en")
    await say(session, audio(0.5))
    started = time.monotonic()
    with pytest.raises(SttTimeoutError):
        await session.end_of_turn()
    assert time.monotonic() - started < 1
    deepgram_server.script(finalized("Hello again."))
    await say(session, audio(0.3))
    assert (await session.end_of_turn()).text == "Hello again.", "the session goes on after a timeout"
    await session.close()


async def test_a_wrong_key_is_refused_without_retrying(deepgram_server: DeepgramServer) -> None:
    stt = DeepgramStreaming(api_key="wrong", base_url=deepgram_server.url)
    with pytest.raises(SttError, match="401"):
        await stt.open(sample_rate=RATE, language="en")
    assert deepgram_server.refused == 1
    assert "wrong" not in repr(stt)


async def test_a_busy_server_is_retried_when_connecting(deepgram_server: DeepgramServer) -> None:
    deepgram_server.refuse_next(503)
    session = await make_engine(deepgram_server).open(sample_rate=RATE, language="en")
    assert (deepgram_server.refused, len(deepgram_server.streams)) == (1, 1)
    await session.close()


async def test_a_server_gone_for_good_is_an_stt_error(
    session: DeepgramSession, deepgram_server: DeepgramServer
) -> None:
    deepgram_server.drop_after(0.1)
    for _ in range(10):
        deepgram_server.refuse_next(503)
    await say(session, audio(0.3), pace=0.005)
    with pytest.raises(SttError, match="no connection"):
        await session.end_of_turn()
