"""Fixtures of the text-to-speech tests: the local OpenAI and ElevenLabs servers (one per test module,
reset for each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from ai_agent.tts.testing import (
    ElevenLabsServer,
    OpenAITtsServer,
    serving_elevenlabs_server,
    serving_openai_tts_server,
)

OPENAI_KEY = "sk-test-openai"
ELEVENLABS_KEY = "xi-test-elevenlabs"


@pytest_asyncio.fixture(scope="module")
async def shared_openai_server() -> AsyncIterator[OpenAITtsServer]:
    async with serving_openai_tts_server(api_key=OPENAI_KEY) as server:
        yield server


@pytest_asyncio.fixture
async def openai_server(shared_openai_server: OpenAITtsServer) -> OpenAITtsServer:
    shared_openai_server.reset()
    return shared_openai_server


@pytest_asyncio.fixture(scope="module")
async def shared_elevenlabs_server() -> AsyncIterator[ElevenLabsServer]:
    async with serving_elevenlabs_server(api_key=ELEVENLABS_KEY) as server:
        yield server


@pytest_asyncio.fixture
async def elevenlabs_server(shared_elevenlabs_server: ElevenLabsServer) -> ElevenLabsServer:
    shared_elevenlabs_server.reset()
    shared_elevenlabs_server.voices_error = None
    shared_elevenlabs_server.voice_ids = None
    return shared_elevenlabs_server
