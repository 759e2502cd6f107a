"""Text to speech: one small interface (:mod:`ai_agent.tts.types`) and its providers. See
``docs/text-to-speech.md``."""

from ai_agent.tts.preview import preview_wav
from ai_agent.tts.settings import TtsSettings, build_text_to_speech
from ai_agent.tts.types import TextToSpeech, TtsError, TtsRateLimitedError, TtsTimeoutError, Voice

__all__ = [
    "TextToSpeech",
    "TtsError",
    "TtsRateLimitedError",
    "TtsSettings",
    "TtsTimeoutError",
    "Voice",
    "build_text_to_speech",
    "preview_wav",
]
