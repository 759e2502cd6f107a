"""Voices through the API: the provider's list (by language), a spoken sample as WAV, and the provider's
failures as problems."""

from __future__ import annotations

import wave
from io import BytesIO

import httpx
import pytest

from ai_agent.settings import Settings
from ai_agent.testing import FakeTextToSpeech, agent_app, principal
from ai_agent.tts import TtsError, TtsRateLimitedError, TtsTimeoutError
from dialplane.testing.http import SignedPrincipal


async def test_the_voices_are_listed_and_filtered_by_language(client: httpx.AsyncClient) -> None:
    every = await client.get("/api/v1/voices")
    german = await client.get("/api/v1/voices?language=DE")

    assert every.status_code == 200
    assert [v["id"] for v in every.json()["items"]] == ["en-test", "de-test", "any-test"]
    assert every.json()["items"][0] == {
        "id": "en-test",
        "name": "Test English",
        "language": "en-us",
        "gender": "female",
    }
    assert german.json()["items"] == [
        {"id": "de-test", "name": "Test German", "language": "de", "gender": "male"}
    ]


async def test_a_preview_is_a_wav_of_the_voice_speaking(
    client: httpx.AsyncClient, speech: FakeTextToSpeech
) -> None:
    default = await client.get("/api/v1/voices/en-test/preview")
    chosen = await client.get("/api/v1/voices/any-test/preview", params={"language": "fr", "text": "Bonjour"})

    assert default.status_code == chosen.status_code == 200
    assert default.headers["content-type"] == "audio/wav"
    with wave.open(BytesIO(default.content)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 16_000)
        assert audio.getnframes() == len(speech.spoken[0]["text"])
    assert speech.spoken[0]["voice"] == "en-test" and speech.spoken[0]["language"] == "en-us"
    assert speech.spoken[0]["text"].startswith("Hello")
    assert speech.spoken[1] == {
        "text": "Bonjour",
        "voice": "any-test",
        "language": "fr",
        "sample_rate": 16_000,
    }


async def test_a_multilingual_voice_previews_in_english_by_default(
    client: httpx.AsyncClient, speech: FakeTextToSpeech
) -> None:
    assert (await client.get("/api/v1/voices/any-test/preview")).status_code == 200
    assert speech.spoken[0]["language"] == "en"


@pytest.mark.parametrize(
    ("path", "status", "field_or_code"),
    [
        ("/api/v1/voices/nobody/preview", 404, "voice_not_found"),
        ("/api/v1/voices?language=klingon-language", 422, "query.language"),
        ("/api/v1/voices/en-test/preview?text=", 422, "query.text"),
        ("/api/v1/voices/en-test/preview?text=" + "x" * 501, 422, "query.text"),
        ("/api/v1/voices/en-test/preview?language=12", 422, "query.language"),
    ],
)
async def test_bad_voice_requests_are_problems(
    client: httpx.AsyncClient, path: str, status: int, field_or_code: str
) -> None:
    response = await client.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    assert field_or_code in [body["code"], *(e["field"] for e in body.get("errors", []))]


@pytest.mark.parametrize(
    ("failure", "status", "code", "retry_after"),
    [
        (TtsError("invalid API key"), 502, "speech_failed", None),
        (TtsRateLimitedError("slow down", retry_after_seconds=7.2), 503, "speech_unavailable", "8"),
        (TtsTimeoutError("no first byte"), 503, "speech_unavailable", "2"),
    ],
)
async def test_provider_failures_are_502_or_503(
    client: httpx.AsyncClient,
    speech: FakeTextToSpeech,
    failure: TtsError,
    status: int,
    code: str,
    retry_after: str | None,
) -> None:
    speech.failure = failure
    for path in ("/api/v1/voices", "/api/v1/voices/en-test/preview"):
        response = await client.get(path)
        assert response.status_code == status and response.json()["code"] == code
        assert response.headers.get("retry-after") == retry_after


async def test_without_a_speech_provider_voices_are_503(settings: Settings) -> None:
    async with agent_app(settings) as app:
        app.state.text_to_speech = None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.auth = SignedPrincipal(principal())
            response = await client.get("/api/v1/voices")
    assert response.status_code == 503 and response.json()["code"] == "text_to_speech_unavailable"
