"""What the local Chat Completions server (:mod:`ai_agent.llm.testing`) answers: the scripted replies, how
they look on the wire (streamed chunks, or one completion, shaped as OpenAI's), and the request checks that
OpenAI's servers make (so a request the local server accepts is one the real ones accept too)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """A tool call the model makes: ``arguments`` is the raw text sent (it need not be valid JSON), in
    ``pieces`` fragments."""

    name: str
    arguments: str
    id: str | None = None  # default: call_<request number>_<index>
    pieces: int = 3


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful answer: text chunks, then tool calls, then the finish reason."""

    text: Sequence[str] = ()
    tool_calls: Sequence[ScriptedCall] = ()
    finish_reason: str | None = None  # default: "tool_calls" with tool calls, else "stop"
    delay: float = 0.0  # seconds after the headers, before the first chunk (before the JSON answer)
    chunk_delay: float = 0.0  # seconds between chunks
    cut_after: int | None = None  # break off after this many chunks (the role chunk not counted)
    cut: Literal["abort", "end", "error"] = "abort"  # drop the connection / end cleanly / an error event
    as_json: bool = False  # one JSON completion even when a stream was asked for


@dataclass(frozen=True, slots=True)
class HttpError:
    """An error answer; the body is OpenAI's ``{"error": {"message": …}}`` unless ``raw_body`` is given."""

    status: int
    message: str = "scripted error"
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_body: str | None = None
    delay: float = 0.0  # seconds before the status line


Reply = Answer | HttpError


def text(*chunks: str, **options: Any) -> Answer:
    """An answer of text arriving in ``chunks``; ``options`` are other :class:`Answer` fields."""
    return Answer(text=chunks, **options)


def tool_call(
    name: str, arguments: Mapping[str, Any] | str, *, call_id: str | None = None, pieces: int = 3
) -> ScriptedCall:
    """A tool call; ``arguments`` as an object (sent as JSON) or as the raw text to send."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ScriptedCall(name, raw, call_id, pieces)


def tool_calls(*calls: ScriptedCall, **options: Any) -> Answer:
    """An answer with ``calls`` (after text given as ``text=``, if any)."""
    return Answer(tool_calls=calls, **options)


def rate_limited(
    retry_after: str | None = "0", message: str = "Rate limit reached for requests"
) -> HttpError:
    """A 429, with ``Retry-After`` unless ``retry_after`` is ``None``."""
    return HttpError(429, message, {"Retry-After": retry_after} if retry_after is not None else {})


def error_body(reply: HttpError) -> bytes:
    if reply.raw_body is not None:
        return reply.raw_body.encode()
    kind = {429: "rate_limit_error"}.get(
        reply.status, "server_error" if reply.status >= 500 else "invalid_request"
    )
    return json.dumps(
        {"error": {"message": reply.message, "type": kind, "param": None, "code": None}}
    ).encode()


# --- the answer on the wire -------------------------------------------------------------------------------


def stream_chunks(reply: Answer, model: str, number: int) -> list[dict[str, Any]]:
    """The chunks of a streamed answer: the role, the text pieces, each call's first fragment (id, name)
    and its argument pieces, and the finish reason."""
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": piece} for piece in reply.text]
    for index, call in enumerate(reply.tool_calls):
        first = {"index": index, "id": _call_id(call, number, index), "type": "function"}
        deltas.append({"tool_calls": [{**first, "function": {"name": call.name, "arguments": ""}}]})
        for piece in split(call.arguments, call.pieces):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    chunks = [_chunk(model, number, delta, None) for delta in deltas]
    return [*chunks, _chunk(model, number, {}, _finish_reason(reply))]


def completion(reply: Answer, model: str, number: int) -> dict[str, Any]:
    """The answer as one JSON completion."""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.text) or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": _call_id(c, number, i),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for i, c in enumerate(reply.tool_calls)
        ]
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(reply)}
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return {**_header(model, number, "chat.completion"), "choices": [choice], "usage": usage}


def split(text: str, pieces: int) -> list[str]:
    """``text`` in ``pieces`` parts of about the same length (fewer if it is shorter)."""
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[start : start + size] for start in range(0, len(text), size)]


def _chunk(model: str, number: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {**_header(model, number, "chat.completion.chunk"), "choices": [choice]}


def _header(model: str, number: int, kind: str) -> dict[str, Any]:
    return {"id": f"chatcmpl-test{number}", "object": kind, "created": int(time.time()), "model": model}


def _call_id(call: ScriptedCall, number: int, index: int) -> str:
    return call.id or f"call_{number}_{index}"


def _finish_reason(reply: Answer) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


# --- the request checks -----------------------------------------------------------------------------------

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_NOT_A_RESPONSE = "messages with role 'tool' must be a response to a preceding message with 'tool_calls'"
_UNANSWERED = (
    "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
    "'tool_call_id'. The following tool_call_ids did not have response messages:"
)


def protocol_problems(body: Mapping[str, Any]) -> list[str]:
    """What OpenAI would refuse in this request body (the first item becomes the 400's message)."""
    problems: list[str] = []
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("you must provide a model parameter")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append("'messages' must be a non-empty array")
    else:
        problems += _message_problems(messages)
    return problems + _tool_problems(body)


def _message_problems(messages: list[Any]) -> list[str]:
    problems: list[str] = []
    unanswered: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in _ROLES:
            return [f"messages[{index}]: unknown role {role!r}"]
        if role == "tool" and message.get("tool_call_id") not in unanswered:
            problems.append(f"messages[{index}]: {_NOT_A_RESPONSE}")
        if role != "tool" and unanswered:
            problems.append(_unanswered(unanswered))
            unanswered = set()
        unanswered.discard(message.get("tool_call_id", ""))
        if role == "assistant":
            problems += _call_problems(index, message.get("tool_calls") or [])
            unanswered |= {str(c.get("id")) for c in message.get("tool_calls") or [] if isinstance(c, dict)}
        elif not isinstance(message.get("content"), str | list):
            problems.append(f"messages[{index}]: 'content' is required for role {role!r}")
    return problems + ([_unanswered(unanswered)] if unanswered else [])


def _unanswered(ids: set[str]) -> str:
    return f"{_UNANSWERED} {', '.join(sorted(ids))}"


def _call_problems(index: int, calls: Any) -> list[str]:
    where = f"messages[{index}].tool_calls"
    if not isinstance(calls, list):
        return [f"{where}: must be an array"]
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(call.get("id"), str)
            or call.get("type") != "function"
        ):
            return [f"{where}: each call needs an 'id', type 'function' and a 'function'"]
        if not isinstance(function.get("name"), str) or not isinstance(function.get("arguments"), str):
            return [f"{where}: a function needs a 'name' and its 'arguments' as a string"]
    return []


def _tool_problems(body: Mapping[str, Any]) -> list[str]:
    tools = body.get("tools")
    if tools is None:
        return ["'tool_choice' is only allowed when 'tools' are specified"] if "tool_choice" in body else []
    if not isinstance(tools, list) or not tools:
        return ["'tools': [] is too short - 'tools' must be a non-empty array"]
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type") != "function" or not function.get("name"):
            return ["'tools': each tool needs type 'function' and a 'function' with a 'name'"]
        if not isinstance(function.get("parameters", {}), dict):
            return ["'tools': a function's 'parameters' must be a JSON Schema object"]
    return []
