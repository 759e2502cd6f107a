"""The conversation engine's resources, made in the service's ``lifespan()``: speech to text (the Whisper
model loaded before the service says it is ready), text to speech (with espeak-ng as the fallback of a
cloud provider), the language model, the event-stream consumer and worker that bring it calls, and the
reporter of the process's capacity (``capacity_reports``, read by the dialer's pacing)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from fastapi import FastAPI

from ai_agent.llm.openai_chat import OpenAIChatModel
from ai_agent.llm.types import LanguageModel
from ai_agent.session.conversation import ConversationSettings
from ai_agent.session.manager import CONSUMER_GROUP, ConversationManager
from ai_agent.session.runner import CallRunner, Pipeline
from ai_agent.session.setup import CallFacts
from ai_agent.session.vad import TurnSettings
from ai_agent.settings import LlmSettings, Settings
from ai_agent.stt.settings import build_speech_to_text
from ai_agent.tts.settings import TtsSettings, build_text_to_speech
from dialplane.calls import AGENT_QUEUE, CALLS_STREAM
from dialplane.capacity import CapacityReporter
from dialplane.runners import running


def model_factory(
    settings: LlmSettings, client: httpx.AsyncClient | None
) -> Callable[[CallFacts], LanguageModel]:
    """The model for a call: the offline policy (which needs the call's facts), or one shared client."""
    if settings.provider == "policy" or client is None:
        return lambda facts: facts.policy()
    model = OpenAIChatModel(
        client,
        model=settings.model,
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
        base_url=settings.base_url,
        temperature=settings.temperature,
        first_token_timeout=settings.first_token_timeout_seconds,
        total_timeout=settings.total_timeout_seconds,
        max_retries=settings.max_retries,
    )
    return lambda _facts: model


@asynccontextmanager
async def conversation_engine(app: FastAPI, settings: Settings) -> AsyncIterator[ConversationManager]:
    async with AsyncExitStack() as stack:
        stt = build_speech_to_text(settings.stt)
        stack.push_async_callback(stt.aclose)
        await stt.load()
        tts = build_text_to_speech(settings.tts)
        stack.push_async_callback(tts.aclose)
        fallback = build_text_to_speech(
            TtsSettings()
        )  # espeak-ng, default voice: also for a bad profile voice
        stack.push_async_callback(fallback.aclose)
        client = None
        if settings.llm.provider == "openai":
            client = await stack.enter_async_context(httpx.AsyncClient())
        engine = settings.engine
        pipeline = Pipeline(
            sessions=app.state.sessions,
            stream=app.state.event_stream,
            stt=stt,
            tts=tts,
            fallback_tts=fallback,
            calendars=app.state.calendars,
            model=model_factory(settings.llm, client),
            conversation=ConversationSettings(
                opening_wait_seconds=engine.opening_wait_seconds,
                silence_seconds=engine.silence_seconds,
                reprompts=engine.reprompts,
                max_duration_seconds=engine.max_duration_seconds,
                opt_out_key=engine.opt_out_key,
            ),
            record_calls=engine.record_calls,
            turns=TurnSettings(
                threshold=engine.vad_threshold,
                min_speech_ms=engine.min_speech_ms,
                barge_in_min_speech_ms=engine.barge_in_min_speech_ms,
                end_silence_ms=engine.end_of_turn_silence_ms,
            ),
        )
        reporter = CapacityReporter(
            app.state.sessions,
            lambda: manager.capacity_report(),
            interval_seconds=settings.capacity_report_interval_seconds,
        )
        manager = ConversationManager(
            CallRunner(pipeline),
            max_conversations=settings.max_conversations,
            on_change=reporter.refresh_soon,
        )
        stack.push_async_callback(manager.stop)
        app.state.text_to_speech, app.state.conversations = tts, manager
        app.state.capacity_reporter = reporter
        stream = app.state.event_stream
        consumer = stream.consumer(CONSUMER_GROUP, [CALLS_STREAM], manager.on_call_event, start_from="latest")
        worker = stream.worker(AGENT_QUEUE, manager.on_command, concurrency=4)
        async with running([consumer, worker, reporter]):
            yield manager
