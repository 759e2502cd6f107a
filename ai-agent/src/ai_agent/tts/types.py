"""The provider-neutral text-to-speech interface of the conversation.

The conversation asks a :class:`TextToSpeech` for speech and reads s16le mono PCM chunks at the sample rate it
asked for, as soon as the provider produces them, so the caller hears the first words while the rest is still
being made. It may stop reading at any moment (the caller barged in) by closing the stream with ``aclose()``:
the provider then stops its work (a subprocess is killed, an HTTP response is closed). Providers (espeak-ng,
OpenAI, ElevenLabs) translate their own formats and rates into this one; the conversation never checks which
provider it has. Errors are :class:`TtsError` and its subclasses. See ``docs/text-to-speech.md``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Voice:
    """A voice a provider offers. ``id`` is what :meth:`TextToSpeech.synthesize` takes as ``voice``;
    ``language`` is a BCP 47-like tag (``en-us``, ``de``) or ``multilingual``; ``gender`` is ``female``,
    ``male`` or ``None`` when the provider does not say."""

    id: str
    name: str
    language: str
    gender: str | None = None


class TtsError(Exception):
    """Speech could not be made (after the provider's own retries). ``retryable`` says whether trying again
    later may help (rate limits, timeouts, server errors) or not (a bad key, an unknown voice)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class TtsRateLimitedError(TtsError):
    def __init__(self, message: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(message, retryable=True)
        self.retry_after_seconds = retry_after_seconds


class TtsTimeoutError(TtsError):
    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class TextToSpeech(Protocol):
    def synthesize(
        self, text: str, *, voice: str | None, language: str, sample_rate: int
    ) -> AsyncGenerator[bytes, None]:
        """``text`` spoken, as s16le mono chunks at ``sample_rate``, each as soon as the provider produces
        it. ``voice`` ``None`` means the provider's default for ``language``. An async generator, so that
        ``aclose()`` stops it early (and stops the provider's work); raises :class:`TtsError` if speech
        cannot be made. Empty or blank text gives no chunks."""

    async def voices(self, language: str | None = None) -> list[Voice]:
        """The voices offered, only those for ``language`` when it is given."""

    async def aclose(self) -> None:
        """Release what the provider holds (HTTP connections); it cannot be used afterwards."""
