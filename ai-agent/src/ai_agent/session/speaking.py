"""The agent's voice on a call: text → speech → the media connection, interruptible at any moment.

:class:`Speaker` synthesizes one sentence at a time with the configured :class:`TextToSpeech` and queues
the audio on the call's :class:`~ai_agent.media.socket.MediaSocket` as it arrives; Asterisk paces it.
:meth:`Speaker.finish` marks the end and waits until Asterisk has played it. :meth:`Speaker.interrupt`
(barge-in) stops synthesis and flushes whatever Asterisk still has queued, so the person stops hearing the
agent at once.

If the TTS provider fails, the sentence is spoken by the fallback provider (offline espeak-ng), so a cloud
outage never leaves the person in dead air.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

import structlog

from ai_agent.media.socket import MediaSocket
from ai_agent.session.recording import Recorder
from ai_agent.tts.types import TextToSpeech, TtsError

log = structlog.get_logger(__name__)

_marks = itertools.count(1)


@dataclass
class Utterance:
    """One agent turn's speech: its text and when its audio started (monotonic seconds)."""

    text: list[str] = field(default_factory=list)
    audio_seconds: list[float] = field(default_factory=list)  # each sentence's length of audio
    tts_first_byte_at: float | None = None
    first_audio_at: float | None = None
    interrupted: bool = False
    heard: str | None = None  # once interrupted: what had been played by then

    @property
    def spoken(self) -> str:
        """What the person heard: all of it, or (interrupted) up to the word they cut in at."""
        if self.heard is not None:
            return self.heard
        return " ".join(part.strip() for part in self.text if part.strip())

    def cut_at(self, played_seconds: float) -> str:
        """The words played in the first ``played_seconds`` of audio (a sentence cut off ends with "—")."""
        heard, start = [], 0.0
        for sentence, seconds in zip(self.text, self.audio_seconds, strict=False):
            if start + seconds <= played_seconds:
                heard.append(sentence.strip())
            elif played_seconds > start:
                words = sentence.split()
                share = round(len(words) * (played_seconds - start) / max(seconds, 1e-3))
                heard.append(" ".join(words[:share]) + " —" if share else "")
            start += seconds
        return " ".join(part for part in heard if part)


class Speaker:
    def __init__(
        self,
        media: MediaSocket,
        tts: TextToSpeech,
        *,
        voice: str | None,
        language: str,
        fallback: TextToSpeech | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.recorder = recorder
        self._media, self._tts, self._fallback = media, tts, fallback
        self._voice, self._language = voice, language
        self._playing: asyncio.Event | None = None
        self.current = Utterance()

    @property
    def speaking(self) -> bool:
        """Audio of the current utterance is queued or playing."""
        return self._playing is not None and not self._playing.is_set()

    def begin(self) -> Utterance:
        self.current = Utterance()
        return self.current

    async def say(self, sentence: str) -> None:
        if not sentence.strip():
            return
        self.current.text.append(sentence)
        self.current.audio_seconds.append(0.0)
        self._playing = self._playing if self.speaking else asyncio.Event()
        try:
            await self._synthesize(self._tts, sentence, self._voice)
        except TtsError as exc:
            if self._fallback is None:
                raise
            log.warning("tts_failed_using_fallback", error=str(exc))
            await self._synthesize(self._fallback, sentence, None)

    async def _synthesize(self, tts: TextToSpeech, sentence: str, voice: str | None) -> None:
        rate = self._media.start.sample_rate
        chunks = tts.synthesize(sentence, voice=voice, language=self._language, sample_rate=rate)
        try:
            async for chunk in chunks:
                now = time.monotonic()
                self.current.tts_first_byte_at = self.current.tts_first_byte_at or now
                await self._media.play(chunk)
                if self.recorder is not None:
                    self.recorder.spoken(chunk)
                self.current.audio_seconds[-1] += len(chunk) / (2 * rate)
                self.current.first_audio_at = self.current.first_audio_at or time.monotonic()
        finally:
            await chunks.aclose()

    async def finish(self) -> None:
        """Wait until everything said so far has been played (or flushed, or the call is gone)."""
        if self._playing is None or self._playing.is_set():
            return
        played = await self._media.end_of_speech(f"utterance-{next(_marks)}")
        await played.wait()
        self._playing.set()

    async def interrupt(self) -> None:
        """Barge-in: drop the queued audio now."""
        utterance = self.current
        utterance.interrupted = True
        if utterance.first_audio_at is not None and self.speaking:
            utterance.heard = utterance.cut_at(time.monotonic() - utterance.first_audio_at)
        await self._media.flush()
        if self.recorder is not None:
            self.recorder.flushed()
        if self._playing is not None:
            self._playing.set()
