"""Test support: local servers speaking the providers' real wire protocols, and audio helpers.

:class:`TranscriptionServer` is an OpenAI-compatible ``POST /v1/audio/transcriptions`` over real HTTP
(multipart in, ``{"text": …}`` out). Each request gets the next scripted reply: a transcript (possibly
slow), or an HTTP error such as a 429 with ``Retry-After`` or a 500. Every request is recorded with its
headers, form fields and uploaded file, and checked like OpenAI checks it (a 400 otherwise)::

    async with serving_transcription_server() as server:
        server.script(rate_limited(retry_after="0"), transcribed("hello"))
        stt = OpenAITranscription(base_url=server.api_base, api_key="sk-test")
        ...
        assert server.uploads[-1].wav.sample_rate == 8000

The Deepgram live-streaming server is in :mod:`ai_agent.stt.testing_deepgram` and re-exported here.
"""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ai_agent.providers.testing import (
    HttpError,
    ScriptedServer,
    openai_error,
    serving_scripted,
    wait_unless,
)
from ai_agent.stt.testing_deepgram import (
    DeepgramServer,
    Finalized,
    ReceivedStream,
    Said,
    finalized,
    serving_deepgram_server,
)

__all__ = [
    "DeepgramServer",
    "Finalized",
    "HttpError",
    "ReceivedStream",
    "ReceivedUpload",
    "Said",
    "Transcribed",
    "TranscriptionServer",
    "WavInfo",
    "finalized",
    "frames",
    "rate_limited",
    "server_error",
    "serving_deepgram_server",
    "serving_transcription_server",
    "transcribed",
]


def frames(pcm: bytes, sample_rate: int, milliseconds: int = 20) -> Iterator[bytes]:
    """``pcm`` (16-bit mono) cut into frames as a call delivers them."""
    size = sample_rate * 2 * milliseconds // 1000
    for offset in range(0, len(pcm), size):
        yield pcm[offset : offset + size]


@dataclass(frozen=True, slots=True)
class WavInfo:
    channels: int
    sample_width: int  # bytes
    sample_rate: int
    pcm: bytes  # the data chunk, as stored


@dataclass(frozen=True, slots=True)
class Transcribed:
    text: str
    delay: float = 0.0  # seconds before answering


TranscriptionReply = Transcribed | HttpError


def transcribed(text: str, *, delay: float = 0.0) -> Transcribed:
    return Transcribed(text, delay)


def rate_limited(*, retry_after: str | None = "0") -> HttpError:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return HttpError(429, "Rate limit reached for requests", headers)


def server_error(status: int = 500) -> HttpError:
    return HttpError(status)


@dataclass(slots=True)
class ReceivedUpload:
    headers: dict[str, str]  # names in lower case
    fields: dict[str, str]  # the form's text fields: model, language, response_format, …
    file_name: str
    content_type: str
    file: bytes
    at: float  # time.monotonic()

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def wav(self) -> WavInfo:
        """The uploaded file read as WAV (``wave.Error`` if it is not one)."""
        with wave.open(io.BytesIO(self.file), "rb") as reader:
            pcm = reader.readframes(reader.getnframes())
            return WavInfo(reader.getnchannels(), reader.getsampwidth(), reader.getframerate(), pcm)


class TranscriptionServer(ScriptedServer[TranscriptionReply, ReceivedUpload]):
    """Answers with the scripted replies in turn, then with ``otherwise`` (a 400 if that is ``None``)."""

    def __init__(self) -> None:
        super().__init__()
        self.app = Starlette(routes=[Route("/v1/audio/transcriptions", self._handle, methods=["POST"])])

    @property
    def uploads(self) -> list[ReceivedUpload]:
        """The requests received."""
        return self.requests

    async def _handle(self, request: Request) -> JSONResponse:
        async with request.form() as form:
            upload = form.get("file")
            texts = {name: value for name, value in form.items() if isinstance(value, str)}
            if not isinstance(upload, UploadFile):
                return openai_error(400, "you must provide a file")
            received = ReceivedUpload(
                {k.lower(): v for k, v in request.headers.items()},
                texts,
                upload.filename or "",
                upload.content_type or "",
                await upload.read(),
                time.monotonic(),
            )
        self.requests.append(received)
        problem = _problem(received)
        reply = self.next_reply()
        if problem or reply is None:
            return openai_error(400, problem or "the test server has no scripted reply left")
        await wait_unless(self._closing, reply.delay)
        if isinstance(reply, HttpError):
            return openai_error(reply.status, reply.message, reply.headers)
        return JSONResponse({"text": reply.text})


def _problem(upload: ReceivedUpload) -> str | None:
    """What OpenAI would refuse in this request, if anything."""
    if not upload.fields.get("model"):
        return "you must provide a model parameter"
    if upload.fields.get("response_format", "json") not in ("json", "text", "verbose_json"):
        return "response_format must be json, text or verbose_json"
    language = upload.fields.get("language")
    if language is not None and (len(language) != 2 or not language.islower()):
        return f"language must be an ISO-639-1 code such as 'en', got {language!r}"
    try:
        upload.wav  # noqa: B018  (reading it is the check)
    except (wave.Error, EOFError):
        return "the file is not a valid audio file"
    return None


def serving_transcription_server() -> AbstractAsyncContextManager[TranscriptionServer]:
    """A :class:`TranscriptionServer` served by uvicorn on a free port of 127.0.0.1 for the block."""
    return serving_scripted(TranscriptionServer())
