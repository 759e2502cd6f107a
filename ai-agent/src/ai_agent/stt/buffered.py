"""A session for the engines that transcribe whole utterances (an OpenAI-compatible API, Whisper): it buffers
the turn's audio and transcribes it at the end of the turn. A turn shorter than ``MIN_TURN_SECONDS`` is not
transcribed: its transcript is ``""``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ai_agent.stt.audio import MIN_TURN_SECONDS, seconds_of
from ai_agent.stt.metrics import TurnMetrics
from ai_agent.stt.types import SttError, Transcript

# (pcm, sample_rate, language, prompt) -> the transcript of one utterance of 16-bit little-endian mono PCM
Transcribe = Callable[[bytes, int, str, str | None], Awaitable[Transcript]]


class BufferedSession:
    """Buffers a turn's audio and hands it to ``transcribe`` at the end of the turn; the turn's metrics are
    labelled ``provider``."""

    def __init__(
        self,
        transcribe: Transcribe,
        provider: str,
        sample_rate: int,
        language: str,
        prompt: str | None = None,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.provider = provider
        self.prompt = prompt
        self.sample_rate = sample_rate
        self.language = language
        self._transcribe = transcribe
        self._audio = bytearray()
        self._closed = False

    async def feed(self, pcm: bytes) -> None:
        if not self._closed:
            self._audio += pcm

    async def end_of_turn(self) -> Transcript:
        if self._closed:
            raise SttError("the speech-to-text session is closed")
        pcm = bytes(self._audio)
        self._audio.clear()
        if seconds_of(len(pcm), self.sample_rate) < MIN_TURN_SECONDS:
            return Transcript("")
        with TurnMetrics(self.provider):
            return await self._transcribe(pcm, self.sample_rate, self.language, self.prompt)

    async def discard(self) -> None:
        self._audio.clear()

    async def close(self) -> None:
        self._closed = True
        self._audio.clear()
