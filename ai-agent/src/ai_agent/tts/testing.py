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

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ai_agent.tts.elevenlabs import ELEVENLABS_PCM_RATES
from ai_agent.tts.openai_speech import OPENAI_MAX_INPUT, OPENAI_PCM_RATE
from ai_agent.tts.testing_script import (
    ErrorBody,
    HttpError,
    PlayedReply,
    ReceivedRequest,
    Reply,
    Speech,
    rate_limited,
    stall,
)
from dialplane.testing.http import serving

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


class _ScriptedServer:
    """What both servers share: the script, the recorded requests, the key check. ``api_key`` ``None``
    accepts any key."""

    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self.base_url = ""
        self.requests: list[ReceivedRequest] = []
        self.otherwise: Reply | None = None
        self._replies: deque[Reply] = deque()
        self._closing = asyncio.Event()

    def script(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        return len(self._replies)

    def reset(self) -> None:
        """Forget the script, ``otherwise`` and the requests received (a server shared between tests)."""
        self._replies.clear()
        self.requests.clear()
        self.otherwise = None

    def close(self) -> None:
        """End the answers still waiting or streaming (when the server stops)."""
        self._closing.set()

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
        reply = self._replies.popleft() if self._replies else self.otherwise
        if reply is None:
            return self._refuse(received, 400, "the test server has no scripted reply left")
        error_body: ErrorBody = self.error_body
        return PlayedReply(reply, received, rate, error_body, self._closing)


class OpenAITtsServer(_ScriptedServer):
    """``POST /v1/audio/speech``; only ``response_format: "pcm"`` is produced (24 kHz s16le)."""

    def __init__(self, api_key: str | None = None) -> None:
        super().__init__(api_key)
        self.app = Starlette(routes=[Route("/v1/audio/speech", self._speech, methods=["POST"])])

    @property
    def api_base(self) -> str:
        """The base URL a client uses (``…/v1``)."""
        return f"{self.base_url}/v1"

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


class ElevenLabsServer(_ScriptedServer):
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


@asynccontextmanager
async def serving_openai_tts_server(*, api_key: str | None = None) -> AsyncIterator[OpenAITtsServer]:
    """An :class:`OpenAITtsServer` served by uvicorn on a free port of 127.0.0.1 for the block."""
    server = OpenAITtsServer(api_key)
    async with serving(server.app) as base_url:
        server.base_url = base_url
        try:
            yield server
        finally:
            server.close()


@asynccontextmanager
async def serving_elevenlabs_server(*, api_key: str | None = None) -> AsyncIterator[ElevenLabsServer]:
    """An :class:`ElevenLabsServer` served by uvicorn on a free port of 127.0.0.1 for the block."""
    server = ElevenLabsServer(api_key)
    async with serving(server.app) as base_url:
        server.base_url = base_url
        try:
            yield server
        finally:
            server.close()
