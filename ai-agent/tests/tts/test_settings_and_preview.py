"""TtsSettings build the provider they name; secrets stay masked; a voice preview is a playable WAV."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from ai_agent.audio import duration_seconds, read_wav
from ai_agent.audio.testing import peak_frequency
from ai_agent.tts import TtsSettings, build_text_to_speech, preview_wav
from ai_agent.tts.elevenlabs import ElevenLabsTextToSpeech
from ai_agent.tts.espeak import EspeakTextToSpeech
from ai_agent.tts.openai_speech import OpenAITextToSpeech
from ai_agent.tts.preview import sample_sentence
from ai_agent.tts.testing import ElevenLabsServer, OpenAITtsServer, Speech


def test_espeak_is_the_default() -> None:
    tts = build_text_to_speech(TtsSettings(espeak_speed_wpm=140, espeak_voice="en-us+f3"))
    assert isinstance(tts, EspeakTextToSpeech)
    assert (tts.speed_wpm, tts.voice) == (140, "en-us+f3")


def test_keys_are_masked() -> None:
    settings = TtsSettings(provider="openai", openai_api_key=SecretStr("sk-very-secret"))
    assert "sk-very-secret" not in repr(settings)
    assert "sk-very-secret" not in str(settings.model_dump())
    assert "sk-very-secret" not in settings.model_dump_json()


def test_elevenlabs_needs_a_key_and_urls_must_be_http() -> None:
    with pytest.raises(ValidationError, match="elevenlabs_api_key is required"):
        TtsSettings(provider="elevenlabs")
    with pytest.raises(ValidationError, match="must start with http"):
        TtsSettings(provider="openai", openai_base_url="api.openai.com/v1")
    with pytest.raises(ValidationError):
        TtsSettings.model_validate({"provider": "polly"})


async def test_openai_from_settings(openai_server: OpenAITtsServer) -> None:
    settings = TtsSettings(
        provider="openai",
        openai_base_url=openai_server.api_base,
        openai_api_key=SecretStr(openai_server.api_key or ""),
        openai_voice="shimmer",
        max_retries=0,
    )
    tts = build_text_to_speech(settings)
    assert isinstance(tts, OpenAITextToSpeech)
    openai_server.script(Speech(seconds=0.5))
    wav = await preview_wav(tts, None, "de")
    await tts.aclose()
    pcm, rate = read_wav(wav)
    assert rate == 16_000 and duration_seconds(pcm, rate) == pytest.approx(0.5, abs=0.01)
    body = openai_server.requests[0].body
    assert (body["voice"], body["input"]) == ("shimmer", sample_sentence("de"))


async def test_elevenlabs_from_settings(elevenlabs_server: ElevenLabsServer) -> None:
    settings = TtsSettings(
        provider="elevenlabs",
        elevenlabs_base_url=elevenlabs_server.base_url,
        elevenlabs_api_key=SecretStr(elevenlabs_server.api_key or ""),
    )
    tts = build_text_to_speech(settings)
    assert isinstance(tts, ElevenLabsTextToSpeech)
    elevenlabs_server.script(Speech(seconds=0.5, frequency=440))
    pcm, rate = read_wav(await preview_wav(tts, "EXAVITQu4vr4xnSDxMaL", "en", "Testing.", sample_rate=8_000))
    await tts.aclose()
    assert rate == 8_000 and peak_frequency(pcm, rate) == pytest.approx(440, abs=2)
    assert elevenlabs_server.requests[0].body["text"] == "Testing."


async def test_espeak_preview_is_speech() -> None:
    pcm, rate = read_wav(await preview_wav(EspeakTextToSpeech(), None, "fr-FR"))
    assert rate == 16_000 and duration_seconds(pcm, rate) > 2


def test_sample_sentences() -> None:
    assert sample_sentence("de-AT").startswith("Hallo")
    assert sample_sentence("xx") == sample_sentence("en")
