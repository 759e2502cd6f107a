"""OpenAIChatModel against the local Chat Completions server over real HTTP: answers streamed as text and
tool calls, the request it sends, non-streamed answers, and a caller that stops listening (barge-in)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from ai_agent.llm.openai_chat import OpenAIChatModel
from ai_agent.llm.testing import ChatServer, text, tool_call, tool_calls
from ai_agent.llm.types import (
    Done,
    LlmError,
    LlmEvent,
    Message,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    ToolSpec,
)

USER = [Message("system", "You book meetings."), Message("user", "Can we meet on Tuesday?")]
BOOK = ToolSpec(
    "book_meeting",
    "Book a meeting at a free time.",
    {"type": "object", "properties": {"start": {"type": "string"}}, "required": ["start"]},
)


def make_model(client: httpx.AsyncClient, server: ChatServer, **options: Any) -> OpenAIChatModel:
    defaults: dict[str, Any] = {"model": "test-model", "base_url": server.api_base, "backoff_base": 0.01}
    return OpenAIChatModel(client, **(defaults | options))


async def answer(
    model: OpenAIChatModel, messages: Sequence[Message] = USER, tools: Sequence[ToolSpec] = ()
) -> list[LlmEvent]:
    return [event async for event in model.stream(messages, tools)]


async def test_text_arrives_in_pieces_as_it_is_produced(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("Tuesday", " at ten", " works.", chunk_delay=0.2))
    started = time.monotonic()
    model_stream = make_model(client, server).stream(USER, [])
    first = await anext(model_stream)
    first_after = time.monotonic() - started
    events = [first] + [event async for event in model_stream]
    assert events == [TextDelta("Tuesday"), TextDelta(" at ten"), TextDelta(" works."), Done("stop")]
    assert first_after < 0.15, "the first piece must not wait for the rest of the answer"


async def test_a_tool_call_with_its_arguments_split_over_chunks(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    arguments = {"start": "2026-11-24T10:00:00+01:00", "duration_minutes": 30, "note": "über"}
    server.script(tool_calls(tool_call("book_meeting", arguments, call_id="call_abc", pieces=6)))
    events = await answer(make_model(client, server), tools=[BOOK])
    raw = json.dumps(arguments)
    assert events == [
        ToolCallsReady([ToolCall("call_abc", "book_meeting", arguments, raw_arguments=raw)]),
        Done("tool_calls"),
    ]


async def test_two_tool_calls_in_one_answer_after_some_text(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    calls = (tool_call("check_availability", {"day": "tuesday"}), tool_call("opt_out", {}, pieces=1))
    server.script(tool_calls(*calls, text=("One moment,", " let me check.")))
    events = await answer(make_model(client, server), tools=[BOOK])
    assert events[:2] == [TextDelta("One moment,"), TextDelta(" let me check.")]
    ready = events[2]
    assert isinstance(ready, ToolCallsReady)
    assert [(c.id, c.name, dict(c.arguments)) for c in ready.calls] == [
        ("call_1_0", "check_availability", {"day": "tuesday"}),
        ("call_1_1", "opt_out", {}),
    ]
    assert events[3:] == [Done("tool_calls")]


@pytest.mark.parametrize(
    ("raw", "error"), [('{"start": "10:00"', "not valid JSON"), ('["10:00"]', "not a JSON object but list")]
)
async def test_malformed_arguments_are_reported_not_raised(
    client: httpx.AsyncClient, server: ChatServer, raw: str, error: str
) -> None:
    server.script(tool_calls(tool_call("book_meeting", raw), tool_call("opt_out", "{}")))
    events = await answer(make_model(client, server), tools=[BOOK])
    ready = events[0]
    assert isinstance(ready, ToolCallsReady)
    bad, good = ready.calls
    assert (bad.name, dict(bad.arguments), bad.raw_arguments) == ("book_meeting", {}, raw)
    assert bad.arguments_error is not None and error in bad.arguments_error
    assert (good.name, dict(good.arguments), good.arguments_error) == ("opt_out", {}, None)


async def test_the_request_follows_the_protocol(client: httpx.AsyncClient, server: ChatServer) -> None:
    history = [
        *USER,
        Message("assistant", None, tool_calls=[ToolCall("call_9", "book_meeting", {"start": "10:00"})]),
        Message("tool", '{"meeting_id": 7}', tool_call_id="call_9", name="book_meeting"),
        Message("assistant", "Booked for ten."),
        Message("user", "Thanks!"),
    ]
    server.script(text("You're welcome."))
    model = make_model(client, server, api_key="sk-test-123", temperature=0.3, max_tokens=200)
    await answer(model, history, [BOOK])
    request = server.requests[0]
    assert request.authorization == "Bearer sk-test-123"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "You book meetings."},
            {"role": "user", "content": "Can we meet on Tuesday?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "book_meeting", "arguments": '{"start": "10:00"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_9", "content": '{"meeting_id": 7}'},
            {"role": "assistant", "content": "Booked for ten."},
            {"role": "user", "content": "Thanks!"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": BOOK.name,
                    "description": BOOK.description,
                    "parameters": dict(BOOK.parameters),
                },
            }
        ],
        "tool_choice": "auto",
        "temperature": 0.3,
        "max_tokens": 200,
        "stream": True,
    }


async def test_without_an_api_key_or_tools_neither_is_sent(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("Hello."))
    await answer(make_model(client, server))
    request = server.requests[0]
    assert request.authorization is None
    assert "tools" not in request.body and "tool_choice" not in request.body


async def test_the_client_base_url_is_used_when_none_is_given(server: ChatServer) -> None:
    server.script(text("Hello."))
    async with httpx.AsyncClient(base_url=server.api_base) as http:
        events = await answer(OpenAIChatModel(http, model="test-model"))
    assert events == [TextDelta("Hello."), Done("stop")]
    with pytest.raises(ValueError, match="base_url"):
        OpenAIChatModel(httpx.AsyncClient(), model="test-model")


async def test_a_server_that_ignores_stream_answers_with_json(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(tool_calls(tool_call("opt_out", {"reason": "busy"}), text=("Sure.",), as_json=True))
    events = await answer(make_model(client, server), tools=[BOOK])
    assert events[0] == TextDelta("Sure.")
    assert events[1] == ToolCallsReady(
        [ToolCall("call_1_0", "opt_out", {"reason": "busy"}, '{"reason": "busy"}')]
    )
    assert events[2] == Done("tool_calls")


async def test_a_stream_without_done_but_with_a_finish_reason_is_complete(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("Hello", " there", cut_after=3, cut="end"))  # text, text, finish reason; no [DONE]
    events = await answer(make_model(client, server))
    assert events == [TextDelta("Hello"), TextDelta(" there"), Done("stop")]


async def test_a_caller_that_stops_listening_closes_the_request(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("I can", " offer", " Tuesday", chunk_delay=0.2))
    model = make_model(client, server, provider="test-barge-in")
    stream = model.stream(USER, [])
    assert await anext(stream) == TextDelta("I can")
    await stream.aclose()  # the caller spoke over the agent
    await asyncio.wait_for(server.requests[0].closed.wait(), 2)
    assert server.requests[0].disconnected
    assert _count("dialplane_llm_requests_total", provider="test-barge-in", outcome="cancelled") == 1


async def test_metrics_count_the_answer_and_time_its_first_token(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    server.script(text("Hello.", delay=0.1))
    await answer(make_model(client, server, provider="test-metrics"))
    assert _count("dialplane_llm_requests_total", provider="test-metrics", outcome="ok") == 1
    assert _count("dialplane_llm_first_token_seconds_count", provider="test-metrics") == 1
    assert _count("dialplane_llm_first_token_seconds_sum", provider="test-metrics") >= 0.1


async def test_an_error_raised_by_the_protocol_check_names_the_problem(
    client: httpx.AsyncClient, server: ChatServer
) -> None:
    orphan = [*USER, Message("tool", "{}", tool_call_id="call_nobody_made")]
    with pytest.raises(LlmError, match="must be a response to a preceding message with 'tool_calls'"):
        await answer(make_model(client, server), orphan)


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
