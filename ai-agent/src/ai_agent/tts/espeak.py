"""The offline default: speech from the ``espeak-ng`` program (Debian package ``espeak-ng``).

Each :meth:`EspeakTextToSpeech.synthesize` runs ``espeak-ng --stdout --stdin -v VOICE -s WPM`` as a
subprocess, without a shell. The text goes in on standard input, so nothing in it can become an option (a
text starting with ``-`` is spoken). espeak-ng writes a WAV stream (22 050 Hz mono s16le, its header's sizes
are placeholders); the header is read, and the samples are resampled to the rate asked for and handed on as
they arrive. espeak-ng makes speech hundreds of times faster than real time, so the first chunk comes within
tens of milliseconds. Closing the stream early kills the subprocess. A semaphore bounds how many run at once.
"""

from __future__ import annotations

import asyncio
import re
from asyncio.subprocess import PIPE, Process
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress

from ai_agent.audio.resample import Resampler
from ai_agent.audio.wav import WavStreamReader
from ai_agent.tts.metrics import metered
from ai_agent.tts.types import TtsError, Voice

# Languages whose espeak-ng voice is not simply the language tag itself.
_LANGUAGE_VOICES = {"en": "en-us", "zh": "cmn", "zh-cn": "cmn", "zh-tw": "cmn", "no": "nb"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+\-/.]{0,63}\Z")
_GENDERS = {"M": "male", "F": "female"}


class EspeakTextToSpeech:
    """Speech from espeak-ng. ``voice`` (e.g. ``en-us+f3``), when set, is used whenever a caller gives
    none, whatever the language; otherwise the voice comes from the language (``en`` → ``en-us``, ``de`` →
    ``de``). ``speed_wpm`` is espeak-ng's ``-s`` (words per minute; its own default is 175)."""

    provider = "espeak"

    def __init__(
        self,
        *,
        binary: str = "espeak-ng",
        speed_wpm: int = 160,
        voice: str | None = None,
        max_concurrency: int = 4,
        read_bytes: int = 4096,
    ) -> None:
        self.binary = binary
        self.speed_wpm = speed_wpm
        self.voice = voice
        self.read_bytes = read_bytes
        self._slots = asyncio.Semaphore(max_concurrency)
        self._voices: dict[str, list[Voice]] = {}

    def voice_for(self, language: str) -> str:
        """The voice used when a caller gives none."""
        if self.voice:
            return self.voice
        tag = language.strip().lower().replace("_", "-")
        return _LANGUAGE_VOICES.get(tag, tag or "en-us")

    def synthesize(
        self, text: str, *, voice: str | None, language: str, sample_rate: int
    ) -> AsyncGenerator[bytes, None]:
        chosen = voice or self.voice_for(language)
        return metered(self.provider, sample_rate, self._synthesize(text, chosen, sample_rate))

    async def voices(self, language: str | None = None) -> list[Voice]:
        """espeak-ng's voices (``espeak-ng --voices[=LANGUAGE]``), without the MBROLA ones, which need
        voice data that is not installed with espeak-ng."""
        key = (language or "").strip().lower().replace("_", "-")
        if key not in self._voices:
            if key:
                _check_name("language", key)
            listing = await self._run_listing(f"--voices={key}" if key else "--voices")
            self._voices[key] = parse_voice_list(listing)
        return list(self._voices[key])

    async def aclose(self) -> None:
        """Nothing to release: each subprocess ends with its stream."""

    # --- one synthesis ------------------------------------------------------------------------------------

    async def _synthesize(self, text: str, voice: str, sample_rate: int) -> AsyncGenerator[bytes, None]:
        _check_name("voice", voice)
        text = text.replace("\x00", " ")
        if not text.strip():
            return
        async with self._slots:
            process = await self._start("--stdout", "--stdin", "-v", voice, "-s", str(self.speed_wpm))
            writer = asyncio.create_task(_write_stdin(process, text))
            reader = WavStreamReader()
            try:
                async with aclosing(self._pcm(process, reader, sample_rate)) as chunks:
                    async for chunk in chunks:
                        yield chunk
                await self._check_exit(process, audio=reader.format is not None)
            finally:
                writer.cancel()
                await _stop(process)

    async def _pcm(
        self, process: Process, reader: WavStreamReader, sample_rate: int
    ) -> AsyncGenerator[bytes, None]:
        assert process.stdout is not None
        resampler: Resampler | None = None
        while data := await process.stdout.read(self.read_bytes):
            try:
                pcm = reader.feed(data)
            except ValueError as exc:
                raise TtsError(f"{self.binary} wrote audio that cannot be read: {exc}") from exc
            if reader.format is None:
                continue
            resampler = resampler or Resampler(reader.format.sample_rate, sample_rate)
            if out := resampler.process(pcm):
                yield out
        if resampler and (tail := resampler.flush()):
            yield tail

    async def _check_exit(self, process: Process, *, audio: bool) -> None:
        assert process.stderr is not None
        message = (await process.stderr.read()).decode(errors="replace").strip()
        status = await process.wait()
        if status != 0:
            raise TtsError(f"{self.binary} failed (exit status {status}): {message or 'no message'}")
        if not audio:
            raise TtsError(f"{self.binary} wrote no audio: {message or 'no message'}")

    # --- subprocesses -------------------------------------------------------------------------------------

    async def _start(self, *args: str) -> Process:
        try:
            return await asyncio.create_subprocess_exec(
                self.binary, *args, stdin=PIPE, stdout=PIPE, stderr=PIPE
            )
        except OSError as exc:
            raise TtsError(f"cannot run {self.binary!r}: {exc}") from exc

    async def _run_listing(self, *args: str) -> str:
        process = await self._start(*args)
        try:
            stdout, stderr = await process.communicate()
        finally:
            await _stop(process)  # when cancelled
        if process.returncode != 0:
            message = stderr.decode(errors="replace").strip() or "no message"
            raise TtsError(
                f"{self.binary} {' '.join(args)} failed (exit status {process.returncode}): {message}"
            )
        return stdout.decode(errors="replace")


def parse_voice_list(listing: str) -> list[Voice]:
    """The voices of ``espeak-ng --voices`` output (columns: priority, language, age/gender, name, file,
    other languages), MBROLA voices (file ``mb/…``) left out, each language once."""
    voices: dict[str, Voice] = {}
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5 or fields[4].startswith("mb/") or fields[1] in voices:
            continue
        language, gender, name = fields[1], fields[2].rpartition("/")[2], fields[3].replace("_", " ")
        voices[language] = Voice(id=language, name=name, language=language, gender=_GENDERS.get(gender))
    return list(voices.values())


def _check_name(what: str, value: str) -> None:
    if not _NAME.match(value):
        raise TtsError(f"not an espeak-ng {what}: {value!r}")


async def _write_stdin(process: Process, text: str) -> None:
    assert process.stdin is not None
    with suppress(ConnectionError):  # espeak-ng ended (failed, or was killed) before reading it all
        process.stdin.write(text.encode())
        await process.stdin.drain()
        process.stdin.close()
        await process.stdin.wait_closed()


async def _stop(process: Process) -> None:
    """Kill ``process`` if it still runs, and reap it (no zombie left behind). What is left in its pipes is
    read and dropped: asyncio stops reading a pipe whose buffer is full, and ``wait()`` returns only once
    every pipe has seen its end."""
    if process.returncode is None:
        with suppress(ProcessLookupError):
            process.kill()
    if process.stdin is not None:
        process.stdin.close()
    await process.communicate()
