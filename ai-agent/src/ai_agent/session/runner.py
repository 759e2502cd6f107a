"""Running one call's conversation from start to stored outcome.

:meth:`CallRunner.claim` starts a pending conversation (in the command's transaction). :meth:`CallRunner.run`
connects to the call's media, builds the pipeline (turn detector, speech to text, the model, tools,
speech), lets the :class:`~ai_agent.session.conversation.Conversation` (or, on an answering machine, the
voicemail drop) run, and stores the outcome with its ``conversation.ended`` event. Whatever fails, the call
is hung up and the conversation ended with the reason — never left open.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.calendar import Calendar
from ai_agent.conversations import repository as conversations
from ai_agent.llm.policy_tools import OPT_OUT, TOOLS
from ai_agent.llm.types import LanguageModel, Message, ToolCall
from ai_agent.media.feed import AudioFeed
from ai_agent.media.socket import MediaError, MediaSocket
from ai_agent.profiles import repository as profiles
from ai_agent.profiles.prompt import active_system_prompt
from ai_agent.session import metrics
from ai_agent.session.conversation import Conversation, ConversationSettings
from ai_agent.session.outcome import outcome_of, summary_of
from ai_agent.session.recording import Recorder
from ai_agent.session.responding import Responder, TurnTimes
from ai_agent.session.setup import CallFacts
from ai_agent.session.sink import TurnStore
from ai_agent.session.speaking import Speaker
from ai_agent.session.tools import Decisions, ToolContext, ToolRunner
from ai_agent.session.vad import SileroVoiceActivity, TurnDetector, TurnSettings
from ai_agent.session.voicemail import leave_message, wait_for_beep
from ai_agent.stt.types import SpeechToText
from ai_agent.tts.types import TextToSpeech
from dialplane.calls import BRIDGE_QUEUE, CONVERSATION_ENDED, CONVERSATIONS_STREAM, HANGUP
from dialplane.db import SessionFactory, transaction
from dialplane.events import EventStream, NewCommand, NewEvent

log = structlog.get_logger(__name__)

TRANSFER = "call.transfer"
OPTED_OUT = "conversation.opted_out"


class ConverseRequest(BaseModel):
    call_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    media_url: str = Field(pattern=r"^wss?://")
    media_format: str = "slin16"
    answered_by: str | None = None
    answered_at: dt.datetime | None = None  # when the far end picked up (the bridge's clock)


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What every call shares: providers and stores."""

    sessions: SessionFactory
    stream: EventStream
    stt: SpeechToText
    tts: TextToSpeech
    fallback_tts: TextToSpeech | None
    calendars: Mapping[str, Calendar]
    model: Callable[[CallFacts], LanguageModel]
    conversation: ConversationSettings
    turns: TurnSettings
    record_calls: bool = False


class CallRunner:
    def __init__(self, pipeline: Pipeline) -> None:
        self._p = pipeline

    async def claim(
        self, session: AsyncSession, request: ConverseRequest
    ) -> conversations.ConversationRecord | None:
        record = await conversations.get(session, uuid.UUID(request.call_id))
        if record is None:
            raise LookupError("no conversation recorded for this call yet")  # the command is retried
        if record.status != "pending":
            return None
        profile = await profiles.get(session, record.profile) or await profiles.get(session, "default")
        language = (profile.language if profile else None) or "en"
        return await conversations.start(
            session,
            record.call_id,
            answered_by=request.answered_by,
            language=language,
            started_at=dt.datetime.now(dt.UTC),
        )

    async def end_unstarted(self, session: AsyncSession, call_id: str, status: str) -> None:
        """The call ended before an agent talked on it (busy, no answer, failed, hung up at once)."""
        try:
            record = await conversations.get(session, uuid.UUID(call_id))
        except ValueError:
            return
        if record is None or record.status != "pending":
            return
        outcome = "no_conversation" if status == "completed" else None
        await self._finish(
            session,
            record.call_id,
            outcome,
            f"the call ended {status} before the agent spoke",
            Decisions(),
            end_reason=status,
        )

    async def run(self, request: ConverseRequest, record: conversations.ConversationRecord) -> None:
        decisions, person_turns, ended_by = Decisions(), 0, "error"
        media: MediaSocket | None = None
        try:
            async with transaction(self._p.sessions) as session:
                facts = await self._facts(session, record)
                template = await active_system_prompt(session)
            media = await MediaSocket.connect(request.media_url)
            decisions, person_turns, ended_by = await self._talk(request, facts, media, template)
        except (MediaError, OSError) as exc:
            log.warning("conversation_media_failed", error=str(exc))
            await self._hang_up(request.call_id)
        except Exception:
            log.exception("conversation_failed")
            await self._hang_up(request.call_id)
        first_audio_at = media.first_audio_at if media is not None else None
        metrics.first_audio(request.answered_at, first_audio_at, request.answered_by)
        outcome = outcome_of(decisions, person_turns, request.answered_by)
        async with transaction(self._p.sessions) as session:
            await self._finish(
                session,
                record.call_id,
                outcome,
                summary_of(outcome, decisions),
                decisions,
                end_reason=ended_by,
                first_audio_at=first_audio_at,
            )

    async def _facts(self, session: AsyncSession, record: conversations.ConversationRecord) -> CallFacts:
        profile = await profiles.get(session, record.profile) or await profiles.get(session, "default")
        if profile is None:
            raise LookupError(f"no agent profile {record.profile!r} and no default profile")
        calendar = self._p.calendars.get(profile.calendar) or next(iter(self._p.calendars.values()))
        return CallFacts(str(record.call_id), record.to_number, record.lead, profile, calendar.time_zone)

    async def _talk(
        self, request: ConverseRequest, facts: CallFacts, media: MediaSocket, template: str
    ) -> tuple[Decisions, int, str]:
        feed = AudioFeed(media)
        speaker = Speaker(
            media,
            self._p.tts,
            voice=facts.profile.voice,
            language=facts.language,
            fallback=self._p.fallback_tts,
            recorder=Recorder(media.start.sample_rate) if self._p.record_calls else None,
        )
        try:
            if request.answered_by == "machine":
                return await self._voicemail(request, facts, feed, speaker), 0, "voicemail"
            return await self._converse(request, facts, feed, speaker, template)
        finally:
            await feed.close()
            await media.close()
            if speaker.recorder is not None:
                await speaker.recorder.save(self._p.sessions, facts.call_id)

    async def _voicemail(
        self, request: ConverseRequest, facts: CallFacts, feed: AudioFeed, speaker: Speaker
    ) -> Decisions:
        message = facts.profile.voicemail_message
        if message:
            heard = await wait_for_beep(feed)
            log.info("voicemail_beep", result=heard)
            if heard != "hangup":
                started = time.monotonic()
                await leave_message(speaker, message)
                await TurnStore(self._p.sessions, self._p.stream, facts.call_id).agent(
                    message, started, time.monotonic(), interrupted=False, times=TurnTimes(), timings={}
                )
        await self._hang_up(request.call_id)
        return Decisions(outcome="voicemail", reason="left a message" if message else "answering machine")

    async def _converse(
        self, request: ConverseRequest, facts: CallFacts, feed: AudioFeed, speaker: Speaker, template: str
    ) -> tuple[Decisions, int, str]:
        stt = await self._p.stt.open(
            sample_rate=feed_rate(request), language=facts.language, vocabulary=facts.vocabulary()
        )
        calendar = self._p.calendars.get(facts.profile.calendar) or next(iter(self._p.calendars.values()))
        context = ToolContext(
            facts.call_id,
            facts.to_number,
            facts.time_zone,
            facts.profile.meeting_title,
            facts.profile.transfer_destination,
        )
        tools = ToolRunner(context, calendar, lambda name, d: self._on_decision(facts, name, d))
        specs = [spec for spec in TOOLS if spec.name in set(facts.profile.tools)]
        responder = Responder(
            self._p.model(facts), specs, tools, speaker, max_tool_rounds=self._p.conversation.max_tool_rounds
        )
        system = facts.system_prompt(template, dt.datetime.now(dt.UTC))
        conversation = Conversation(
            feed=feed,
            detector=TurnDetector(SileroVoiceActivity(), self._p.turns),
            stt=stt,
            speaker=speaker,
            responder=responder,
            decisions=tools.decisions,
            sink=TurnStore(self._p.sessions, self._p.stream, facts.call_id),
            messages=[Message(role="system", content=system)],
            settings=self._p.conversation,
            hang_up=lambda: self._hang_up(request.call_id),
            opt_out=lambda: tools.run(
                ToolCall(id="key", name=OPT_OUT, arguments={"reason": "pressed the key"})
            ),
        )
        try:
            await conversation.run()
        finally:
            await stt.close()
        return tools.decisions, conversation.person_turns, conversation.ended_by

    async def _on_decision(self, facts: CallFacts, name: str, decisions: Decisions) -> None:
        async with transaction(self._p.sessions) as session:
            if name == OPT_OUT:
                event = NewEvent(CONVERSATIONS_STREAM, facts.call_id, OPTED_OUT, {"call_id": facts.call_id})
                await self._p.stream.publish(session, event)
            else:
                data = {"call_id": facts.call_id, "destination": facts.profile.transfer_destination}
                await self._p.stream.send(session, NewCommand(BRIDGE_QUEUE, facts.call_id, TRANSFER, data))

    async def _hang_up(self, call_id: str) -> None:
        async with transaction(self._p.sessions) as session:
            await self._p.stream.send(
                session, NewCommand(BRIDGE_QUEUE, call_id, HANGUP, {"call_id": call_id})
            )

    async def _finish(
        self,
        session: AsyncSession,
        call_id: uuid.UUID,
        outcome: str | None,
        summary: str | None,
        decisions: Decisions,
        *,
        end_reason: str,
        first_audio_at: dt.datetime | None = None,
    ) -> None:
        ended = await conversations.finish(
            session,
            call_id,
            outcome=outcome,
            summary=summary,
            end_reason=end_reason,
            callback_at=decisions.callback_at,
            meeting_id=decisions.meeting_id,
            ended_at=dt.datetime.now(dt.UTC),
        )
        if ended is None:
            return
        data: dict[str, Any] = {
            "call_id": str(call_id),
            "outcome": outcome,
            "summary": summary,
            "end_reason": end_reason,
            "callback_at": decisions.callback_at.isoformat() if decisions.callback_at else None,
            "meeting_id": decisions.meeting_id,
            "opted_out": decisions.opted_out,
            "first_audio_at": first_audio_at.isoformat() if first_audio_at else None,
        }
        await self._p.stream.publish(
            session, NewEvent(CONVERSATIONS_STREAM, str(call_id), CONVERSATION_ENDED, data)
        )
        metrics.OUTCOMES.labels(outcome or "none").inc()
        log.info("conversation_ended", outcome=outcome, end_reason=end_reason)


def feed_rate(request: ConverseRequest) -> int:
    return 16000 if request.media_format == "slin16" else 8000
