"""OpenAIChatModel's errors and retries against the local Chat Completions server over real HTTP: what is
retried (429 after Retry-After, 5xx, timeouts and breaks before anything was yielded, connection errors),
what is not (4xx, anything after text was yielded), and the deadline over all attempts."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from ai_agent.llm.openai_chat import OpenAIChatModel
from ai_agent.llm.testing import (
    ChatServer,
    HttpError,
    rate_limited,
    text,
    tool_call,
    tool_calls,
)
from ai_agent.llm.types import (
    Done,
    LlmError,
    LlmEvent,
    LlmRateLimitedError,
    LlmTimeoutError,
    Message,
    TextDelta,
    ToolCallsReady,
)
from dialplane.testing.http import free_port
from dialplane.testing.logs import captured_logs

USER = [Message("user", "Hello?")]


def make_model(client: httpx.AsyncClient, server: ChatServer, **options: Any) -> OpenAIChatModel:
    defaults: dict[str, Any] = {
        "model": "test-model",
        "base_url": server.api_base,
        "first_token_timeout": 0.3,
        "total_timeout": 5.0,
        "idle_timeout": 0.3,
        "backoff_base": 0.01,
        "backoff_cap": 0.02,
    }
    return OpenAIChatModel(client, **(defaults | options))


async def answer(model: OpenAIChatModel) -> list[LlmEvent]:
    return [event async for event in model.stream(USER, [])]


async def test_429_is_retried_after_its_retry_after(client: httpx.AsyncClient, server: ChatServer) -> None:
    server.script(rate_limited(retry_after="0.3"), text("Hello."))
    events = await answer(make_model(client, server, provider="test-429-once"))
    assert events == [TextDelta("Hello."), Done("stop")]
    first, second = server.requests
    assert second.at - first.at >= 0.3
    assert _count("dialplane_llm_retries_total", provider="test-429-once", reason="rate_limited") == 1
    assert _count("dialplane_llm_requests_total", provider="test-429-once", outcome="ok") == 1


async def test_429_every_time_raises_rate_limited(client: httpx.AsyncClient, server: ChatServer) -> None:
    server.otherwise = rate_limited(retry_after="0.01", message="Rate limit reached for gpt-4o-mini")
    with pytest.raises(LlmRateLimitedError, match="Rate limit reached for gpt-4o-mini") as raised:
        await answer(make_model(client, server, provider="test-429-always"))
    assert raised.value.retry_after_seconds == pytest.approx(0.01)
    assert "3 attempts" in str(raised.value)
    assert len(server.requests) == 3  # max_retries=2
    assert _count("dialplane_llm_requests_total", provider="test-429-always", outcome="rate_limited") == 1


async def test_a_retry_after_beyond_the_deadline_is_not_waited_for(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(rate_limited(retry_after="60"), text("too late"))
    started = time.monotonic()
    with pytest.raises(LlmRateLimitedError) as raised:
        await answer(make_model(client, server))
    assert time.monotonic() - started < 1
    assert raised.value.retry_after_seconds == 60
    assert len(server.requests) == 1


async def test_500_then_success(client: httpx.AsyncClient, server: ChatServer) -> None:
    server.script(HttpError(500, "The server had an error while processing your request."), text("Hello."))
    events = await answer(make_model(client, server, provider="test-500"))
    assert events == [TextDelta("Hello."), Done("stop")]
    assert len(server.requests) == 2
    assert _count("dialplane_llm_retries_total", provider="test-500", reason="server_error") == 1


async def test_5xx_every_time_raises_with_the_status_and_message(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.otherwise = HttpError(503, raw_body="upstream overloaded")
    with pytest.raises(LlmError, match="503: upstream overloaded") as raised:
        await answer(make_model(client, server))
    assert type(raised.value) is LlmError
    assert len(server.requests) == 3


async def test_a_timeout_before_the_first_token_is_retried_then_raised(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.otherwise = text("too slow", delay=5)
    started = time.monotonic()
    with pytest.raises(LlmTimeoutError, match=r"within 0\.3 s"):
        await answer(make_model(client, server, provider="test-timeout"))
    assert 0.9 <= time.monotonic() - started < 2
    assert len(server.requests) == 3
    assert _count("dialplane_llm_retries_total", provider="test-timeout", reason="timeout") == 2
    assert _count("dialplane_llm_requests_total", provider="test-timeout", outcome="timeout") == 1


async def test_a_slow_first_answer_is_abandoned_for_a_fast_second(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("too slow", delay=5), text("Hello."))
    assert await answer(make_model(client, server)) == [TextDelta("Hello."), Done("stop")]
    assert server.requests[0].disconnected  # the slow request was closed, not left running


async def test_a_server_hanging_before_its_headers_times_out(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(HttpError(500, delay=5), text("Hello."))
    assert await answer(make_model(client, server)) == [TextDelta("Hello."), Done("stop")]


async def test_the_total_timeout_bounds_all_attempts(client: httpx.AsyncClient, server: ChatServer) -> None:
    server.otherwise = text("too slow", delay=5)
    started = time.monotonic()
    with pytest.raises(LlmTimeoutError):
        await answer(make_model(client, server, total_timeout=0.5, max_retries=5))
    assert time.monotonic() - started < 0.8
    assert len(server.requests) == 2


async def test_a_break_after_text_raises_without_retrying(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("Tuesday", " at", " ten", cut_after=2), text("never asked for"))
    received: list[LlmEvent] = []
    with pytest.raises(LlmError, match=r"broke off.*not retried") as raised:
        async for event in make_model(client, server, provider="test-break").stream(USER, []):
            received.append(event)
    assert type(raised.value) is LlmError
    assert received == [TextDelta("Tuesday"), TextDelta(" at")]
    assert len(server.requests) == 1
    assert _count("dialplane_llm_requests_total", provider="test-break", outcome="broken_stream") == 1


async def test_a_stall_after_text_raises_a_timeout_without_retrying(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("Tuesday", " at ten", chunk_delay=5), text("never asked for"))
    received: list[LlmEvent] = []
    with pytest.raises(LlmTimeoutError, match="stalled"):
        async for event in make_model(client, server).stream(USER, []):
            received.append(event)
    assert received == [TextDelta("Tuesday")]
    assert len(server.requests) == 1


@pytest.mark.parametrize("cut", ["abort", "end", "error"])
async def test_a_break_before_anything_was_yielded_is_retried(
    client: httpx.AsyncClient, server: ChatServer, cut: Any
) -> None:
    broken = tool_calls(tool_call("book_meeting", {"start": "10:00"}, pieces=4), cut_after=3, cut=cut)
    server.script(broken, tool_calls(tool_call("book_meeting", {"start": "10:00"})))
    events = await answer(make_model(client, server))
    assert isinstance(events[0], ToolCallsReady)
    assert dict(events[0].calls[0].arguments) == {"start": "10:00"}
    assert len(server.requests) == 2


async def test_an_error_event_after_text_raises_the_servers_message(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("Tuesday", " at ten", cut_after=1, cut="error"))
    with pytest.raises(LlmError, match="The server had an error"):
        await answer(make_model(client, server))


async def test_400_raises_at_once_with_the_servers_message(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    message = "This model's maximum context length is 8192 tokens."
    server.script(HttpError(400, message), text("never asked for"))
    with pytest.raises(LlmError, match="400: This model's maximum context length is 8192 tokens") as raised:
        await answer(make_model(client, server, provider="test-400"))
    assert type(raised.value) is LlmError
    assert len(server.requests) == 1
    assert _count("dialplane_llm_requests_total", provider="test-400", outcome="client_error") == 1


async def test_401_names_the_problem(client: httpx.AsyncClient, server: ChatServer) -> None:
    server.script(HttpError(401, "Incorrect API key provided: sk-wrong."))
    with pytest.raises(LlmError, match="401: Incorrect API key"):
        await answer(make_model(client, server, api_key="sk-wrong"))


async def test_an_unreachable_server_is_retried_then_raised(client: httpx.AsyncClient) -> None:
    model = OpenAIChatModel(
        client,
        model="m",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        backoff_base=0.01,
        provider="test-down",
    )
    with pytest.raises(LlmError, match=r"could not reach .*3 attempts"):
        await answer(model)
    assert _count("dialplane_llm_retries_total", provider="test-down", reason="connection_error") == 2


async def test_an_unreadable_answer_is_not_retried(client: httpx.AsyncClient, server: ChatServer) -> None:
    server.script(HttpError(200, raw_body="<html>proxy login</html>"), text("never asked for"))
    with pytest.raises(LlmError, match="unreadable answer"):
        await answer(make_model(client, server))
    assert len(server.requests) == 1


async def test_the_api_key_is_not_in_the_error_or_the_logs(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.otherwise = HttpError(500)
    with captured_logs() as logs, pytest.raises(LlmError) as raised:
        await answer(make_model(client, server, api_key="sk-secret-value"))
    lines = logs.getvalue()
    assert "llm.retrying" in lines  # the logs were captured
    assert "sk-secret-value" not in str(raised.value) + lines
    assert "Hello?" not in lines  # nor what was said


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
