"""A short spoken sample of a voice, as a WAV file (for a list of voices with an audio preview)."""

from __future__ import annotations

from contextlib import aclosing

from ai_agent.audio.wav import wav_bytes
from ai_agent.tts.types import TextToSpeech

PREVIEW_SAMPLE_RATE = 16_000
_SAMPLES = {
    "en": "Hello, this is how I sound on the phone. How can I help you today?",
    "de": "Hallo, so klinge ich am Telefon. Wie kann ich Ihnen heute helfen?",
    "fr": "Bonjour, voici ma voix au téléphone. Comment puis-je vous aider aujourd'hui ?",
    "es": "Hola, así sueno por teléfono. ¿En qué puedo ayudarle hoy?",
    "it": "Buongiorno, ecco come suono al telefono. Come posso aiutarla oggi?",
    "nl": "Hallo, zo klink ik aan de telefoon. Waarmee kan ik u vandaag helpen?",
    "pt": "Olá, é assim que eu soo ao telefone. Como posso ajudar hoje?",
}


def sample_sentence(language: str) -> str:
    """The preview sentence for ``language`` (English for a language without one)."""
    return _SAMPLES.get(language.strip().lower().replace("_", "-").split("-")[0], _SAMPLES["en"])


async def preview_wav(
    tts: TextToSpeech,
    voice: str | None,
    language: str,
    text: str | None = None,
    *,
    sample_rate: int = PREVIEW_SAMPLE_RATE,
) -> bytes:
    """``text`` (or the sample sentence for ``language``) spoken by ``voice``, as a mono 16-bit WAV file."""
    spoken = text or sample_sentence(language)
    async with aclosing(
        tts.synthesize(spoken, voice=voice, language=language, sample_rate=sample_rate)
    ) as chunks:
        pcm = b"".join([chunk async for chunk in chunks])
    return wav_bytes(pcm, sample_rate)
