"""SttSettings and build_speech_to_text: the provider chosen, its settings reaching the wire, and keys that
never show."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
import structlog
from pydantic import SecretStr, ValidationError

from ai_agent.stt import SttSettings, build_speech_to_text
from ai_agent.stt.deepgram import DeepgramStreaming
from ai_agent.stt.openai_transcription import OpenAITranscription
from ai_agent.stt.testing import DeepgramServer, TranscriptionServer, frames, server_error
from ai_agent.stt.whisper import WhisperSpeechToText, packaged_model_dir

OPENAI_KEY = "sk-secret-openai-123"
DEEPGRAM_KEY = "dg-test-key"  # the server fixture's


def test_the_default_is_offline_whisper_from_the_packaged_model() -> None:
    stt = build_speech_to_text(SttSettings())
    assert isinstance(stt, WhisperSpeechToText)
    assert stt.model_dir == packaged_model_dir()
    assert (stt.model_dir / "model.bin").is_file()
    assert (stt.cpu_threads, stt.initial_prompt) == (2, None)


def test_whisper_settings_reach_the_provider() -> None:
    settings = SttSettings(whisper_cpu_threads=1, whisper_concurrency=2, initial_prompt="Dialplane")
    stt = build_speech_to_text(settings)
    assert isinstance(stt, WhisperSpeechToText)
    assert (stt.cpu_threads, stt.initial_prompt) == (1, "Dialplane")


def test_deepgram_needs_a_key() -> None:
    with pytest.raises(ValidationError, match="deepgram_api_key"):
        SttSettings(provider="deepgram")
    with pytest.raises(ValidationError, match="deepgram_api_key"):
        SttSettings(provider="deepgram", deepgram_api_key=SecretStr("  "))


def test_settings_are_frozen_and_checked() -> None:
    with pytest.raises(ValidationError):
        SttSettings(provider="vosk")
    with pytest.raises(ValidationError):
        SttSettings(whisper_cpu_threads=0)
    settings = SttSettings()
    with pytest.raises(ValidationError):
        settings.provider = "openai"  # type: ignore[misc]


def test_keys_never_show_in_repr_or_dumps() -> None:
    settings = SttSettings(
        provider="deepgram", openai_api_key=SecretStr(OPENAI_KEY), deepgram_api_key=SecretStr(DEEPGRAM_KEY)
    )
    shown = [repr(settings), str(settings), json.dumps(settings.model_dump(mode="json"))]
    shown.append(repr(build_speech_to_text(settings)))
    shown.append(repr(build_speech_to_text(settings.model_copy(update={"provider": "openai"}))))
    for text in shown:
        assert OPENAI_KEY not in text
        assert DEEPGRAM_KEY not in text


async def test_openai_settings_reach_the_request_through_the_transport() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"text": "Friday works."})

    settings = SttSettings(
        provider="openai",
        openai_base_url="http://stt.internal:8000/v1/",
        openai_api_key=SecretStr(OPENAI_KEY),
        openai_model="Systran/faster-distil-whisper-small.en",
    )
    stt = build_speech_to_text(settings, transport=httpx.MockTransport(answer))
    assert isinstance(stt, OpenAITranscription)
    session = await stt.open(sample_rate=16_000, language="en-GB")
    await session.feed(b"\x10\x00" * 3_200)
    assert (await session.end_of_turn()).text == "Friday works."
    await stt.aclose()
    [request] = seen
    assert str(request.url) == "http://stt.internal:8000/v1/audio/transcriptions"
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = request.read()
    assert b"Systran/faster-distil-whisper-small.en" in body
    assert b'name="language"\r\n\r\nen\r\n' in body


async def test_openai_attempts_come_from_the_settings(
    transcription_server: TranscriptionServer,
) -> None:
    transcription_server.otherwise = server_error(502)
    settings = SttSettings(
        provider="openai", openai_base_url=transcription_server.api_base, openai_max_attempts=2
    )
    stt = build_speech_to_text(settings)
    session = await stt.open(sample_rate=8_000, language="en")
    await session.feed(b"\x01\x00" * 1_600)
    with pytest.raises(Exception, match="502"):
        await session.end_of_turn()
    await stt.aclose()
    assert len(transcription_server.uploads) == 2
    assert transcription_server.uploads[0].authorization is None, "no key, no Authorization header"


async def test_deepgram_settings_reach_the_stream(deepgram_server: DeepgramServer) -> None:
    settings = SttSettings(
        provider="deepgram",
        deepgram_base_url=deepgram_server.url,
        deepgram_api_key=SecretStr(DEEPGRAM_KEY),
        deepgram_model="nova-2-phonecall",
    )
    stt = build_speech_to_text(settings)
    assert isinstance(stt, DeepgramStreaming)
    session = await stt.open(sample_rate=8_000, language="en-US")
    for frame in frames(b"\x02\x00" * 4_000, 8_000):
        await session.feed(frame)
    assert (await session.end_of_turn()).text == ""
    await session.close()
    [stream] = deepgram_server.streams
    assert stream.query["model"] == "nova-2-phonecall"
    assert stream.authorization == f"Token {DEEPGRAM_KEY}"


async def test_keys_are_not_logged(
    deepgram_server: DeepgramServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    deepgram_server.drop_after(0.05)
    settings = SttSettings(
        provider="deepgram", deepgram_base_url=deepgram_server.url, deepgram_api_key=SecretStr(DEEPGRAM_KEY)
    )
    session = await build_speech_to_text(settings).open(sample_rate=8_000, language="en")
    for frame in frames(b"\x02\x00" * 1_600, 8_000):
        await session.feed(frame)
    await session.end_of_turn()
    await session.close()
    structlog.get_logger().info("flush")
    logged = caplog.text + capsys.readouterr().err
    assert "stt.reconnected" in logged, "the reconnection is logged"
    assert DEEPGRAM_KEY not in logged
