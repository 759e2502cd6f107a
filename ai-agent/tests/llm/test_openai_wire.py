"""The Chat Completions wire format without HTTP: server-sent events, chunk decoding (also the variants
other OpenAI-compatible servers send), tool-call arguments, error bodies and Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from ai_agent.llm.openai_wire import (
    ChunkDecoder,
    ProtocolError,
    decode_completion,
    parse_arguments,
)
from ai_agent.llm.sse import sse_data
from ai_agent.llm.testing_script import split
from ai_agent.llm.types import Done, TextDelta, ToolCallsReady
from ai_agent.providers.http import error_text, parse_retry_after


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def test_sse_events_are_joined_and_comments_ignored() -> None:
    lines = [": keep-alive", "", "event: message", 'data: {"a":', "data:1}", "id: 7", "", "data: [DONE]"]
    assert [data async for data in sse_data(_lines(*lines))] == ['{"a":\n1}', "[DONE]"]


def test_chunks_without_index_or_id_still_make_separate_calls() -> None:
    decoder = ChunkDecoder()
    for fragment in (
        {"id": "a", "function": {"name": "check", "arguments": '{"day":'}},
        {"function": {"arguments": ' "mon"}'}},
        {"id": "b", "function": {"name": "opt_out", "arguments": {}}},  # an object, as some servers send
    ):
        decoder.feed({"choices": [{"delta": {"tool_calls": [fragment]}}]})
    ready, done = decoder.finish()
    assert isinstance(ready, ToolCallsReady)
    assert [(c.id, c.name, dict(c.arguments)) for c in ready.calls] == [
        ("a", "check", {"day": "mon"}),
        ("b", "opt_out", {}),
    ]
    assert done == Done("tool_calls")


def test_a_name_repeated_in_every_fragment_is_not_doubled_and_missing_ids_are_made_up() -> None:
    decoder = ChunkDecoder()
    for arguments in ('{"x"', ": 1}"):
        decoder.feed(
            {
                "choices": [
                    {
                        "delta": {
                            "tool_calls": [{"index": 0, "function": {"name": "f", "arguments": arguments}}]
                        }
                    }
                ]
            }
        )
    decoder.feed({"choices": [{"delta": {}, "finish_reason": "stop"}]})  # Ollama may say "stop" with calls
    ready, done = decoder.finish()
    assert isinstance(ready, ToolCallsReady)
    assert [(c.id, c.name, dict(c.arguments)) for c in ready.calls] == [("call_0", "f", {"x": 1})]
    assert done == Done("stop")


def test_usage_chunks_and_empty_content_give_no_events() -> None:
    decoder = ChunkDecoder()
    assert decoder.feed({"choices": [], "usage": {"total_tokens": 3}}) == []
    assert decoder.feed({"choices": [{"delta": {"role": "assistant", "content": ""}}]}) == []
    assert not decoder.started
    assert decoder.feed({"choices": [{"delta": {"content": "Hi"}}]}) == [TextDelta("Hi")]
    assert decoder.started


@pytest.mark.parametrize("chunk", [[], {"choices": "x"}, {"choices": [{"delta": "x"}]}])
def test_chunks_of_the_wrong_shape_are_protocol_errors(chunk: object) -> None:
    with pytest.raises(ProtocolError):
        ChunkDecoder().feed(chunk)  # type: ignore[arg-type]


def test_a_completion_without_choices_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="no choices"):
        decode_completion({"object": "chat.completion", "choices": []})


@pytest.mark.parametrize(
    ("raw", "arguments", "error"),
    [
        ('{"a": 1}', {"a": 1}, None),
        ("", {}, None),
        ("  ", {}, None),
        ('{"a": ', {}, "not valid JSON"),
        ("null", {}, "not a JSON object but NoneType"),
        ('"text"', {}, "not a JSON object but str"),
    ],
)
def test_arguments(raw: str, arguments: dict[str, object], error: str | None) -> None:
    parsed, problem = parse_arguments(raw)
    assert parsed == arguments
    assert problem is None if error is None else problem is not None and error in problem


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"error": {"message": "Invalid  model\n'x'", "type": "invalid_request_error"}}, "Invalid model 'x'"),
        ({"error": "model 'x' not found"}, "model 'x' not found"),
        ({"detail": "Not Found"}, "Not Found"),
        ({"unexpected": 1}, '{"unexpected": 1}'),
        ("Bad Gateway", "Bad Gateway"),
        ("x" * 500, "x" * 299 + "…"),
    ],
)
def test_error_text(body: object, text: str) -> None:
    assert error_text(body) == text


def test_retry_after_in_seconds_milliseconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
    in_two_minutes = format_datetime(now.replace(minute=2), usegmt=True)
    assert parse_retry_after({"retry-after": "2"}, now.timestamp()) == 2
    assert parse_retry_after({"retry-after": "0.5"}, now.timestamp()) == 0.5
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}, now.timestamp()) == 1.5
    assert parse_retry_after({"retry-after": in_two_minutes}, now.timestamp()) == 120
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now.timestamp()) == 0
    assert parse_retry_after({"retry-after": "soon"}, now.timestamp()) is None
    assert parse_retry_after({}, now.timestamp()) is None


def test_the_test_server_splits_arguments_into_pieces() -> None:
    assert split('{"a": 1}', 3) == ['{"a', '": ', "1}"]
    assert split("ab", 5) == ["a", "b"]
    assert split("", 3) == []
