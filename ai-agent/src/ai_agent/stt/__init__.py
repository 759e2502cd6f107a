"""Speech to text for the conversation: one interface (:mod:`ai_agent.stt.types`), three providers (offline
Whisper, an OpenAI-compatible transcription API, Deepgram live streaming), chosen by :class:`SttSettings`.
See ``docs/speech-to-text.md``."""

from ai_agent.stt.settings import ManagedSpeechToText, SttSettings, build_speech_to_text
from ai_agent.stt.types import (
    SpeechToText,
    SttError,
    SttRateLimitedError,
    SttSession,
    SttTimeoutError,
    Transcript,
)

__all__ = [
    "ManagedSpeechToText",
    "SpeechToText",
    "SttError",
    "SttRateLimitedError",
    "SttSession",
    "SttSettings",
    "SttTimeoutError",
    "Transcript",
    "build_speech_to_text",
]
