"""Test support: local servers speaking OpenAI's and ElevenLabs' text-to-speech protocols over real HTTP.

Each answers a speech request with the next scripted reply (:class:`Speech`: audio streamed in chunks,
with delays, a stall or a dropped connection; :class:`HttpError`: an error in the provider's own format), then
with ``otherwise``. The audio is at the rate the protocol says: 24 kHz for OpenAI's ``pcm``, the
``output_format``'s for ElevenLabs. Every request is recorded (headers, query, JSON body) and checked
against the rules the real servers enforce: a wrong key is a 401, a malformed request a 400::

    async with serving_openai_tts_server(api_key="sk-test") as server:
        server.script(rate_limited(retry_after="0"), Speech(seconds=1.0, frequency=440))
        tts = OpenAITextToSpeech(base_url=server.api_base, api_key="sk-test")
        ...
        assert server.requests[-1].body["response_format"] == "pcm"
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ai_agent.providers.testing import HttpError, ScriptedServer, serving_scripted
from ai_agent.tts.elevenlabs import ELEVENLABS_PCM_RATES
from ai_agent.tts.openai_speech import OPENAI_MAX_INPUT, OPENAI_PCM_RATE
from ai_agent.tts.testing_script import (
    ErrorBody,
    PlayedSpeech,
    ReceivedRequest,
    Reply,
    Speech,
    rate_limited,
    stall,
)

__all__ = [
    "ElevenLabsServer",
    "HttpError",
    "OpenAITtsServer",
    "ReceivedRequest",
    "Reply",
    "Speech",
    "rate_limited",
    "serving_elevenlabs_server",
    "serving_openai_tts_server",
    "stall",
]

_OPENAI_FORMATS = frozenset({"mp3", "opus", "aac", "flac", "wav", "pcm"})


class _SpeechServer(ScriptedServer[Reply, ReceivedRequest]):
    """What both servers share besides the script: the key (``None`` accepts any key), recording a
    request, refusing one, playing a reply."""

    def __init__(self, api_key: str | None) -> None:
        super().__init__()
        self.api_key = api_key

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    async def _record(self, request: Request) -> ReceivedRequest:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in request.headers.items()}
        received = ReceivedRequest(
            request.method, request.url.path, dict(request.query_params), headers, body, time.monotonic()
        )
        self.requests.append(received)
        return received

    def _refuse(self, received: ReceivedRequest, status: int, message: str) -> Response:
        received.closed.set()
        return JSONResponse(self.error_body(status, message), status_code=status)

    def _play(self, received: ReceivedRequest, rate: int) -> Response:
        reply = self.next_reply()
        if reply is None:
            return self._refuse(received, 400, "the test server has no scripted reply left")
        error_body: ErrorBody = self.error_body
        return PlayedSpeech(reply, received, rate, error_body, self._closing)


class OpenAITtsServer(_SpeechServer):
    """``POST /v1/audio/speech``; only ``response_format: "pcm"`` is produced (24 kHz s16le)."""

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__(api_key)
        self.app = Starlette(routes=[Route("/v1/audio/speech", self._speech, methods=["POST"])])

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = {401: "invalid_request_error", 429: "requests"}.get(status, "server_error")
        kind = "invalid_request_error" if status == 400 else kind
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    async def _speech(self, request: Request) -> Response:
        received = await self._record(request)
        if self.api_key is not None and received.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._refuse(received, 401, "Incorrect API key provided.")
        if problem := _openai_problem(received.body):
            return self._refuse(received, 400, problem)
        return self._play(received, OPENAI_PCM_RATE)


def _openai_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    for name in ("model", "input", "voice"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"'{name}' is a required property"
    if len(body["input"]) > OPENAI_MAX_INPUT:
        return f"'input' is longer than {OPENAI_MAX_INPUT} characters"
    response_format = body.get("response_format", "mp3")
    if response_format not in _OPENAI_FORMATS:
        return f"'{response_format}' is not one of {sorted(_OPENAI_FORMATS)} - 'response_format'"
    if response_format != "pcm":
        return "the test server only produces response_format 'pcm'"
    speed = body.get("speed", 1.0)
    if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
        return "'speed' must be between 0.25 and 4.0"
    return None


class ElevenLabsServer(_SpeechServer):
    """``POST /v1/text-to-speech/{voice_id}[/stream]`` (only ``output_format=pcm_*`` is produced) and
    ``GET /v1/voices`` (``voice_list``, or ``voices_error``). With ``voice_ids`` set, other voices are a
    404."""

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__(api_key)
        self.voice_list: list[dict[str, Any]] = list(SAMPLE_VOICES)
        self.voices_error: HttpError | None = None
        self.voice_ids: set[str] | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/text-to-speech/{voice_id}/stream", self._speech, methods=["POST"]),
                Route("/v1/text-to-speech/{voice_id}", self._speech, methods=["POST"]),
                Route("/v1/voices", self._voices, methods=["GET"]),
            ]
        )

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        code = {401: "invalid_api_key", 404: "voice_not_found", 429: "too_many_concurrent_requests"}
        return {"detail": {"status": code.get(status, "error"), "message": message}}

    async def _speech(self, request: Request) -> Response:
        received = await self._record(request)
        if refused := self._check_key(received):
            return refused
        voice_id = request.path_params["voice_id"]
        if self.voice_ids is not None and voice_id not in self.voice_ids:
            return self._refuse(received, 404, f"A voice with the voice_id {voice_id} was not found.")
        output_format = received.query.get("output_format", "mp3_44100_128")
        rate = _pcm_rate(output_format)
        if rate is None:
            return self._refuse(
                received, 400, f"the test server only produces pcm formats, not {output_format}"
            )
        body = received.body
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
            return self._refuse(received, 400, "'text' is required")
        return self._play(received, rate)

    async def _voices(self, request: Request) -> Response:
        received = await self._record(request)
        if refused := self._check_key(received):
            return refused
        if self.voices_error is not None:
            return self._refuse(received, self.voices_error.status, self.voices_error.message)
        received.closed.set()
        return JSONResponse({"voices": self.voice_list})

    def _check_key(self, received: ReceivedRequest) -> Response | None:
        if self.api_key is not None and received.headers.get("xi-api-key") != self.api_key:
            return self._refuse(received, 401, "Invalid API key")
        return None


def _pcm_rate(output_format: str) -> int | None:
    codec, _, rate = output_format.partition("_")
    if (
        codec != "pcm"
        or not rate.isdigit()
        or int(rate) not in (*ELEVENLABS_PCM_RATES, 32_000, 44_100, 48_000)
    ):
        return None
    return int(rate)


SAMPLE_VOICES: tuple[dict[str, Any], ...] = (
    {
        "voice_id": "JBFqnCBsd6RMkjVDRZzb",
        "name": "George",
        "category": "premade",
        "labels": {"accent": "british", "age": "middle_aged", "gender": "male", "use_case": "narration"},
        "verified_languages": [
            {"language": "en", "model_id": "eleven_flash_v2_5", "accent": "british", "locale": "en-GB"},
            {"language": "de", "model_id": "eleven_flash_v2_5", "accent": "standard", "locale": "de-DE"},
        ],
    },
    {
        "voice_id": "EXAVITQu4vr4xnSDxMaL",
        "name": "Sarah",
        "category": "premade",
        "labels": {"accent": "american", "age": "young", "gender": "female", "use_case": "news"},
        "verified_languages": [
            {"language": "en", "model_id": "eleven_flash_v2_5", "accent": "american", "locale": "en-US"}
        ],
    },
    {"voice_id": "cloned-voice-1", "name": "My clone", "category": "cloned", "labels": {}},
)


def serving_openai_tts_server(*, api_key: str | None = None) -> AbstractAsyncContextManager[OpenAITtsServer]:
    """An :class:`OpenAITtsServer` served by uvicorn on a free port of 127.0.0.1 for the block."""
    return serving_scripted(OpenAITtsServer(api_key))


def serving_elevenlabs_server(*, api_key: str | None = None) -> AbstractAsyncContextManager[ElevenLabsServer]:
    """An :class:`ElevenLabsServer` served by uvicorn on a free port of 127.0.0.1 for the block."""
    return serving_scripted(ElevenLabsServer(api_key))
