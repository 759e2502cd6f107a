"""A live conversation on one answered call: listening, turn-taking, barge-in, silence and the call's end.

The person's audio is read continuously (also while the agent speaks) into the :class:`TurnDetector`.
When the person finishes a turn, speech to text gives the words and an agent turn starts
(:class:`~ai_agent.session.responding.Responder`). When the person starts speaking while the agent
speaks, the agent is interrupted at once: its turn is cancelled and the audio queued in Asterisk is flushed
(barge-in). The agent's own audio never reaches the detector: the mixing bridge does not send a channel its
own audio.

The agent speaks first if the person has not said anything within ``opening_wait_seconds``; otherwise the
person's greeting ("Hello?") is answered with the opening. Silence after the agent has spoken gets a
re-prompt, then a polite goodbye; the conversation also ends at its maximum duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from ai_agent.llm.types import Message
from ai_agent.media.feed import AudioFeed
from ai_agent.session import metrics
from ai_agent.session.responding import Responder, TurnTimes
from ai_agent.session.speaking import Speaker
from ai_agent.session.tools import Decisions
from ai_agent.session.vad import SpeechEnded, SpeechPaused, SpeechResumed, SpeechStarted, TurnDetector
from ai_agent.stt.types import SttError, SttSession
from ai_agent.tts.types import TtsError

log = structlog.get_logger(__name__)

AFTER_HANGUP_SECONDS = 10.0  # to finish the last turn once the person has hung up
REPROMPT_LINE = "Are you still there?"
OPTED_OUT_LINE = "Understood. You will not be called again. Goodbye."
SILENCE_GOODBYE_LINE = "It seems I've lost you. I'll try again another time. Goodbye."
TIME_UP_LINE = "I'm afraid we're out of time for this call. Thank you, and goodbye."


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    opening_wait_seconds: float = 2.0
    silence_seconds: float = 8.0
    reprompts: int = 1
    max_duration_seconds: float = 600.0
    max_tool_rounds: int = 6
    opt_out_key: str = "9"


class TurnSink(Protocol):
    """Where the turns go (the database), as they happen."""

    async def person(self, text: str, started: float, ended: float) -> None: ...

    async def agent(
        self,
        text: str,
        started: float,
        ended: float,
        *,
        interrupted: bool,
        times: TurnTimes,
        timings: dict[str, float],
    ) -> None: ...


class Conversation:
    def __init__(
        self,
        *,
        feed: AudioFeed,
        detector: TurnDetector,
        stt: SttSession,
        speaker: Speaker,
        responder: Responder,
        decisions: Decisions,
        sink: TurnSink,
        messages: Sequence[Message],
        settings: ConversationSettings,
        hang_up: Callable[[], Awaitable[None]],
        opt_out: Callable[[], Awaitable[object]],
    ) -> None:
        self._opt_out = opt_out
        self._feed, self._detector, self._stt, self._speaker = feed, detector, stt, speaker
        self._responder, self.decisions, self._sink = responder, decisions, sink
        self.messages = list(messages)
        self._settings, self._hang_up = settings, hang_up
        self._agent: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._heard: float | None = None  # monotonic time the person's current speech started
        self._silences = 0
        self._transcripts: list[asyncio.Task[str]] = []  # of the parts of the current turn, in order
        self._person_turn: asyncio.Task[None] | None = None
        self.person_turns = 0
        self.ended_by = "person"
        self._ending = asyncio.Event()

    async def run(self) -> None:
        """Until the call ends (the person hangs up, or the agent ends the call and it is hung up)."""
        self._timer = asyncio.create_task(self._open_after(self._settings.opening_wait_seconds))
        deadline = time.monotonic() + self._settings.max_duration_seconds
        try:
            while not self._ending.is_set():
                if time.monotonic() > deadline:
                    await self._end_with(TIME_UP_LINE, "max_duration")
                    continue
                frame = await self._feed.frame()
                if frame is None:
                    await self._hung_up()
                    break
                await self._hear(frame)
                for key in self._feed.pressed_keys():
                    await self._pressed(key)
        finally:
            await self._stop()

    async def _pressed(self, key: str) -> None:
        """A key: the opt-out key ends the call at once, whatever was going on (no model involved)."""
        log.info("key_pressed", key=key)
        if key != self._settings.opt_out_key or self.decisions.opted_out:
            return
        self._cancel_timer()
        if self._agent is not None and not self._agent.done():
            self._agent.cancel()
            await self._speaker.interrupt()
        await self._sink.person(f"[pressed {key}]", time.monotonic(), time.monotonic())
        self.messages.append(Message(role="user", content=f"[pressed {key}: opt out]"))
        await self._opt_out()
        self.decisions.outcome, self.decisions.reason = "opted_out", f"pressed {key}"
        await self._end_with(OPTED_OUT_LINE, "opted_out")

    async def _hung_up(self) -> None:
        """The person hung up. What they said last still counts ("do not call me again. Goodbye"): it is
        transcribed and answered — the tools run, nobody hears the words."""
        if self._detector.speaking and not self._transcripts:
            self._transcripts.append(asyncio.create_task(self._transcribe()))
        if self._transcripts:
            parts, self._transcripts = self._transcripts, []
            now = time.monotonic()
            self._person_turn = asyncio.create_task(self._person_finished((now, now), parts))
        for task in (self._person_turn, self._agent):
            if task is not None and not task.done():
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), AFTER_HANGUP_SECONDS)
        if self._agent is not None and not self._agent.done():
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._agent), AFTER_HANGUP_SECONDS)

    async def _hear(self, frame: bytes) -> None:
        self._detector.agent_speaking = self._speaker.speaking
        if self._speaker.recorder is not None:
            self._speaker.recorder.heard(frame)
        if self._detector.speaking:
            await self._stt.feed(frame)
        for event in self._detector.feed(frame):
            if isinstance(event, SpeechStarted):
                await self._person_started(event)
            elif isinstance(event, SpeechPaused):  # transcribe what was said so far while waiting
                self._transcripts.append(asyncio.create_task(self._transcribe()))
            elif isinstance(event, SpeechResumed):
                pass  # the transcript of the part before the pause stays; the rest follows
            elif isinstance(event, SpeechEnded):
                if self._transcripts:
                    await self._stt.discard()  # the silence after the pause
                else:
                    self._transcripts.append(asyncio.create_task(self._transcribe()))
                lag = (self._detector.now_ms - event.speech_ended_at_ms) / 1000
                parts, self._transcripts = self._transcripts, []
                ended = (time.monotonic() - lag, time.monotonic())
                self._person_turn = asyncio.create_task(self._person_finished(ended, parts))

    async def _transcribe(self) -> str:
        try:
            return (await self._stt.end_of_turn()).text.strip()
        except SttError as exc:
            log.warning("stt_failed", error=str(exc))
            return "[inaudible]"

    async def _person_started(self, event: SpeechStarted) -> None:
        lag = (self._detector.now_ms - event.at_ms) / 1000
        self._heard = time.monotonic() - lag
        self._cancel_timer()
        was_speaking = self._speaker.speaking  # an answer, or a fixed line (re-prompt, goodbye)
        if was_speaking or (self._agent is not None and not self._agent.done()):
            if self._agent is not None:
                self._agent.cancel()
            await self._speaker.interrupt()
            self._keep_only_what_was_heard()
            if was_speaking:
                metrics.BARGE_INS.inc()
                metrics.BARGE_IN_STOP.observe(time.monotonic() - self._heard)
                log.info("barge_in", stop_ms=round((time.monotonic() - self._heard) * 1000))
        await self._stt.feed(event.pre_roll)

    def _keep_only_what_was_heard(self) -> None:
        """The model must not believe it said what the person never heard: its last words become what was
        played before the person cut in."""
        heard = self._speaker.current.heard
        last = next((m for m in reversed(self.messages) if m.role == "assistant" and m.content), None)
        if heard is None or last is None:
            return
        index = len(self.messages) - 1 - self.messages[::-1].index(last)
        self.messages[index] = Message(role="assistant", content=heard or "—", tool_calls=last.tool_calls)

    async def _person_finished(
        self, ended_and_decided: tuple[float, float], parts: list[asyncio.Task[str]]
    ) -> None:
        ended, decided = ended_and_decided
        started = self._heard or ended
        texts = [await part for part in parts]
        times = TurnTimes(end_of_speech=ended, turn_decided=decided, stt_final=time.monotonic())
        metrics.stage("end_of_speech_to_stt_final", ended, times.stt_final)
        text = " ".join(t for t in texts if t)
        if not text and self._agent is not None:
            self._restart_silence_timer()
            return  # a noise
        if text:
            self._silences = 0
            self.person_turns += 1
            await self._sink.person(text, started, ended)
            self.messages.append(Message(role="user", content=text))
        self._start_agent(times)  # (an unintelligible first sound is a greeting: the agent opens)

    def _start_agent(self, times: TurnTimes) -> None:
        if self._agent is not None and not self._agent.done():
            self._agent.cancel()
        self._cancel_timer()
        self._agent = asyncio.create_task(self._agent_turn(times))

    async def _agent_turn(self, times: TurnTimes) -> None:
        utterance, started = self._speaker.begin(), time.monotonic()
        try:
            await self._responder.respond(self.messages, times)
            await self._speaker.finish()
        except TtsError as exc:  # even the fallback voice failed: end the call rather than leave silence
            log.error("agent_cannot_speak", error=str(exc))
            self.decisions.end_requested = True
            self.decisions.reason = self.decisions.reason or "the agent's voice failed"
        finally:
            timings = times.millis(utterance.tts_first_byte_at, utterance.first_audio_at)
            metrics.observe_turn(timings)
            await asyncio.shield(
                self._sink.agent(
                    utterance.spoken,
                    started,
                    time.monotonic(),
                    interrupted=utterance.interrupted,
                    times=times,
                    timings=timings,
                )
            )
        if self.decisions.transferred:
            self.ended_by = "transferred"  # the bridge takes the agent off the call once a person answers
        elif self.decisions.end_requested:
            self.ended_by = "agent"
            await self._finish_call()
        else:
            self._restart_silence_timer()

    async def _open_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self._heard is None and self._agent is None:
            self._start_agent(TurnTimes())

    def _restart_silence_timer(self) -> None:
        self._cancel_timer()
        self._timer = asyncio.create_task(self._on_silence())

    async def _on_silence(self) -> None:
        await asyncio.sleep(self._settings.silence_seconds)
        self._silences += 1
        if self._silences > self._settings.reprompts:
            await self._end_with(SILENCE_GOODBYE_LINE, "silence")
            return
        await self._say_line(REPROMPT_LINE)
        self._restart_silence_timer()

    async def _end_with(self, line: str, reason: str) -> None:
        self._cancel_timer()
        if self._agent is not None and not self._agent.done():
            self._agent.cancel()
        if self._speaker.speaking:  # the rest of an answer must not hold the closing line back
            await self._speaker.interrupt()
        self.ended_by = reason
        self.decisions.reason = self.decisions.reason or reason
        await self._say_line(line)
        await self._finish_call()

    async def _say_line(self, line: str) -> None:
        """A fixed line (re-prompt, goodbye), spoken and kept as an agent turn."""
        started = time.monotonic()
        utterance = self._speaker.begin()
        self.messages.append(Message(role="assistant", content=line))
        try:
            await self._speaker.say(line)
            await self._speaker.finish()
        finally:  # also when the person cuts in: what they heard of it is kept
            record = self._sink.agent(
                utterance.spoken,
                started,
                time.monotonic(),
                interrupted=utterance.interrupted,
                times=TurnTimes(),
                timings={},
            )
            await asyncio.shield(record)

    async def _finish_call(self) -> None:
        await self._hang_up()
        self._ending.set()

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer is not asyncio.current_task():
            self._timer.cancel()

    async def _stop(self) -> None:
        for task in (self._agent, self._timer, self._person_turn, *self._transcripts):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
