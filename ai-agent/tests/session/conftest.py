"""Fixtures of the conversation tests: a whole Conversation built as the runner builds it, on the fake
media endpoint, with the real Silero turn detector, espeak-ng speech, Whisper (loaded once) or a scripted
speech to text, the offline dialogue policy or the local Chat Completions server, and a list of turns.

Every call runs in real time: the endpoint plays the agent's audio at 20 ms a frame, and the far end speaks
the same way. The agent speaks faster than by default (``AGENT_WPM``) to keep the tests short; calls that
still last over five seconds are marked ``slow`` (``-m "not slow"`` leaves them out).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest
import pytest_asyncio

from ai_agent.calendar import Calendar
from ai_agent.llm.openai_chat import OpenAIChatModel
from ai_agent.llm.policy import DialoguePolicy
from ai_agent.llm.policy_tools import OPT_OUT, TOOLS
from ai_agent.llm.testing import ChatServer, serving_chat_server
from ai_agent.llm.types import LanguageModel, Message, ToolCall
from ai_agent.media.feed import AudioFeed
from ai_agent.media.socket import MediaSocket
from ai_agent.media.testing import FakeMediaEndpoint, serving_media_endpoint
from ai_agent.session.conversation import Conversation, ConversationSettings
from ai_agent.session.responding import Responder, TurnTimes
from ai_agent.session.speaking import Speaker
from ai_agent.session.tools import Decisions, ToolContext, ToolRunner
from ai_agent.session.vad import SileroVoiceActivity, TurnDetector, TurnSettings
from ai_agent.stt.types import SpeechToText, SttSession, Transcript
from ai_agent.stt.whisper import WhisperSpeechToText
from ai_agent.testing import CALENDAR_NOW, fixed_calendar
from ai_agent.tts.espeak import EspeakTextToSpeech
from ai_agent.tts.types import TextToSpeech
from dialplane.db import SessionFactory

AGENT_WPM = 260


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a conversation test lasting over five seconds of real time")


LONG_ANSWER = (  # about six seconds of the agent's speech
    "Hi, this is Alex from Acme. I am calling about a short meeting with our team. "
    "It would take only half an hour of your time."
)
STOP_WITHIN = 0.3  # seconds from the person's first sound (or key) to the agent's audio stopping
QUICK = ConversationSettings(opening_wait_seconds=0.3, silence_seconds=1.0, max_duration_seconds=60.0)


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str  # "person" or "agent"
    text: str
    started: float
    ended: float
    interrupted: bool = False
    tool_calls: tuple[str, ...] = ()


@dataclass
class ListSink:
    """A TurnSink keeping the turns in a list."""

    turns: list[Turn] = field(default_factory=list)

    async def person(self, text: str, started: float, ended: float) -> None:
        self.turns.append(Turn("person", text, started, ended))

    async def agent(
        self,
        text: str,
        started: float,
        ended: float,
        *,
        interrupted: bool,
        times: TurnTimes,
        timings: dict[str, float],
    ) -> None:
        calls = tuple(str(call["name"]) for call in times.tool_calls)
        self.turns.append(Turn("agent", text, started, ended, interrupted, calls))

    def of(self, speaker: str) -> list[Turn]:
        return [turn for turn in self.turns if turn.speaker == speaker]


class ScriptedSpeechToText:
    """Speech to text where the words do not matter: each turn part that contains sound is transcribed as
    the next of ``texts`` (``"…"`` once they are used up); silence is ``""``."""

    def __init__(self, *texts: str) -> None:
        self.texts = deque(texts)
        self.heard: list[str] = []

    async def open(self, *, sample_rate: int, language: str, vocabulary: Sequence[str] = ()) -> SttSession:
        return _ScriptedSession(self)


class _ScriptedSession:
    def __init__(self, engine: ScriptedSpeechToText) -> None:
        self._engine, self._audio = engine, bytearray()

    async def feed(self, pcm: bytes) -> None:
        self._audio += pcm

    async def end_of_turn(self) -> Transcript:
        samples = np.frombuffer(bytes(self._audio), dtype="<i2").astype(np.float64)
        self._audio.clear()
        if samples.size == 0 or float(np.sqrt(np.mean(samples**2))) < 300:
            return Transcript("")
        text = self._engine.texts.popleft() if self._engine.texts else "…"
        self._engine.heard.append(text)
        return Transcript(text)

    async def discard(self) -> None:
        self._audio.clear()

    async def close(self) -> None:
        self._audio.clear()


@dataclass
class Call:
    endpoint: FakeMediaEndpoint
    conversation: Conversation
    sink: ListSink
    decisions: Decisions
    task: asyncio.Task[None]
    decided: list[str] = field(default_factory=list)  # tools reported to the runner (opt_out, transfer)
    hang_ups: list[float] = field(default_factory=list)  # when the conversation asked to hang up

    async def ended(self, within: float = 20.0) -> None:
        async with asyncio.timeout(within):
            await asyncio.shield(self.task)


def policy() -> DialoguePolicy:
    return DialoguePolicy(company="Acme", lead_name="Sam", timezone="Europe/Berlin", now=lambda: CALENDAR_NOW)


def chat_model(client: httpx.AsyncClient, server: ChatServer, **options: Any) -> OpenAIChatModel:
    defaults: dict[str, Any] = {"model": "test-model", "base_url": server.api_base, "backoff_base": 0.01}
    return OpenAIChatModel(client, **(defaults | options))


@asynccontextmanager
async def conversation_on(
    endpoint: FakeMediaEndpoint,
    *,
    model: LanguageModel,
    stt: SpeechToText,
    calendar: Calendar,
    tts: TextToSpeech | None = None,
    fallback: TextToSpeech | None = None,
    settings: ConversationSettings = QUICK,
) -> AsyncIterator[Call]:
    """A conversation on ``endpoint``, built as ``CallRunner._converse`` builds it, running for the block."""
    media = await MediaSocket.connect(endpoint.url)
    feed = AudioFeed(media)
    speaker = Speaker(
        media, tts or EspeakTextToSpeech(speed_wpm=AGENT_WPM), voice=None, language="en", fallback=fallback
    )
    session = await stt.open(sample_rate=media.start.sample_rate, language="en")
    decided: list[str] = []

    async def on_decision(name: str, decisions: Decisions) -> None:
        decided.append(name)

    context = ToolContext(
        "00000000-0000-0000-0000-000000000001", "+4930123456", "Europe/Berlin", "Intro", None
    )
    tools = ToolRunner(context, calendar, on_decision)
    responder = Responder(model, TOOLS, tools, speaker, max_tool_rounds=settings.max_tool_rounds)
    hang_ups: list[float] = []

    async def hang_up() -> None:  # as the bridge does: Asterisk hangs the channel up, the media closes
        hang_ups.append(time.monotonic())
        await media.hangup()

    sink = ListSink()
    conversation = Conversation(
        feed=feed,
        detector=TurnDetector(SileroVoiceActivity(), TurnSettings()),
        stt=session,
        speaker=speaker,
        responder=responder,
        decisions=tools.decisions,
        sink=sink,
        messages=[Message(role="system", content="You are Alex, calling for Acme.")],
        settings=settings,
        hang_up=hang_up,
        opt_out=lambda: tools.run(ToolCall(id="key", name=OPT_OUT, arguments={"reason": "pressed the key"})),
    )
    task = asyncio.create_task(conversation.run())
    call = Call(endpoint, conversation, sink, tools.decisions, task, decided, hang_ups)
    try:
        async with asyncio.timeout(5):
            await endpoint.connected.wait()
        yield call
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await session.close()
        await feed.close()
        await media.close()


@pytest_asyncio.fixture
async def endpoint() -> AsyncIterator[FakeMediaEndpoint]:
    async with serving_media_endpoint() as fake:
        yield fake


@pytest_asyncio.fixture
async def calendar(sessions: SessionFactory) -> Calendar:
    return fixed_calendar(sessions)


@pytest_asyncio.fixture(scope="session")
async def whisper() -> WhisperSpeechToText:
    engine = WhisperSpeechToText(cpu_threads=2)
    await engine.load()
    return engine


@pytest_asyncio.fixture(scope="module")
async def shared_chat_server() -> AsyncIterator[ChatServer]:
    async with serving_chat_server() as server:
        yield server


@pytest_asyncio.fixture
async def chat(shared_chat_server: ChatServer) -> ChatServer:
    shared_chat_server.reset()
    return shared_chat_server


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:  # closed before the chat server stops
        yield client
