"""The provider-neutral speech-to-text interface of the conversation.

For each call the conversation opens one :class:`SttSession` with the call's sample rate and language. It
feeds the person's speech as it arrives (signed 16-bit little-endian mono PCM, 20 ms frames); when its VAD
decides the person has finished, it asks for the turn's :class:`Transcript`; a false start (a cough, a
"uh") is dropped with :meth:`SttSession.discard`. A provider (offline Whisper, an OpenAI-compatible
transcription server, Deepgram's live stream) translates its own protocol into these types; the
conversation never branches on which one it has.

Errors, all raised by :meth:`SttSession.end_of_turn` after the provider's own retries and reconnections:

- :class:`SttError` — the turn could not be transcribed; the conversation asks the person to repeat;
- :class:`SttRateLimitedError` — the provider refused for now (``retry_after_seconds`` if it said when);
- :class:`SttTimeoutError` — no transcript in the configured time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Transcript:
    """What the person said in one turn: ``text`` is ``""`` when nothing intelligible was said.
    ``confidence`` is between 0 and 1 when the provider gives one (a rough guide, not comparable across
    providers)."""

    text: str
    language: str | None = None
    confidence: float | None = None


class SttError(Exception):
    """The turn could not be transcribed (after the provider's own retries)."""


class SttRateLimitedError(SttError):
    def __init__(self, message: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class SttTimeoutError(SttError):
    pass


class SttSession(Protocol):
    """One call's transcription. Calls are serialised: a :meth:`feed` made while :meth:`end_of_turn` runs
    waits for it and belongs to the next turn."""

    async def feed(self, pcm: bytes) -> None:
        """Signed 16-bit little-endian mono PCM at the session's rate, as it arrives (20 ms frames)."""

    async def end_of_turn(self) -> Transcript:
        """The final transcript of everything fed since the previous :meth:`end_of_turn` or
        :meth:`discard` (``""`` for less than 0.1 s of audio, without asking the provider); raises
        :class:`SttError` if there is none. The next turn starts either way."""

    async def discard(self) -> None:
        """Drop what was fed since the previous :meth:`end_of_turn` (a false start)."""

    async def close(self) -> None:
        """End the session; idempotent."""


class SpeechToText(Protocol):
    async def open(self, *, sample_rate: int, language: str, vocabulary: Sequence[str] = ()) -> SttSession:
        """A session for one call; ``language`` like ``"en"`` or ``"en-US"``; ``vocabulary``: words and
        phrases likely to be said on this call (the lead's name, their email address as spoken), which the
        provider is told to expect."""
