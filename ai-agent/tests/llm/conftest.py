"""Fixtures of the LLM provider tests: the local Chat Completions server (one per test module, reset for
each test) and an HTTP client closed before the server stops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from ai_agent.llm.testing import ChatServer, serving_chat_server


@pytest_asyncio.fixture(scope="module")
async def shared_server() -> AsyncIterator[ChatServer]:
    async with serving_chat_server() as chat_server:
        yield chat_server


@pytest_asyncio.fixture
async def server(shared_server: ChatServer) -> ChatServer:
    shared_server.reset()
    return shared_server


@pytest_asyncio.fixture
async def client(server: ChatServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:  # closed before the server stops
        yield http
