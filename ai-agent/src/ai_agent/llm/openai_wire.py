"""The OpenAI Chat Completions wire format: requests from :mod:`ai_agent.llm.types`, and answers (streamed
chunks or one JSON completion) back into :data:`LlmEvent`. No I/O here; :mod:`ai_agent.llm.openai_chat`
does the HTTP.

Tool calls in a stream arrive as fragments keyed by ``index``: the first carries ``id`` and
``function.name``, the rest pieces of ``function.arguments``. They are joined here and handed out once, with
their arguments parsed, when the answer is complete. Servers that leave out ``index`` (each fragment then a
whole call) or ``id`` are tolerated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ai_agent.llm.types import Done, LlmEvent, Message, TextDelta, ToolCall, ToolCallsReady, ToolSpec
from ai_agent.providers.http import error_text

# --- requests ---------------------------------------------------------------------------------------------


def encode_message(message: Message) -> dict[str, Any]:
    """One message as the protocol has it; a tool message's ``name`` is not sent (OpenAI has none)."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content or ""}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [encode_tool_call(call) for call in message.tool_calls],
        }
    return {"role": message.role, "content": message.content or ""}


def encode_tool_call(call: ToolCall) -> dict[str, Any]:
    """A call the model made, sent back with the history. Its arguments are re-encoded from the parsed ones
    (``{}`` when they were malformed): some servers render the history through a template that parses them."""
    arguments = json.dumps(dict(call.arguments), ensure_ascii=False)
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}


def encode_tool(tool: ToolSpec) -> dict[str, Any]:
    function = {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)}
    return {"type": "function", "function": function}


def encode_request(
    model: str,
    messages: Sequence[Message],
    tools: Sequence[ToolSpec],
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """The request body; ``options`` (temperature, max_tokens, extra fields) are added as they are.
    ``tools`` and ``tool_choice`` are left out when there are no tools: OpenAI refuses an empty list."""
    body: dict[str, Any] = {"model": model, "messages": [encode_message(m) for m in messages]}
    if tools:
        body["tools"] = [encode_tool(tool) for tool in tools]
        body["tool_choice"] = "auto"
    body.update(options)
    body["stream"] = True
    return body


# --- answers ----------------------------------------------------------------------------------------------


class ProtocolError(ValueError):
    """The server's answer does not follow the protocol."""


def parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Arguments as a JSON object, or ``({}, what was wrong)``; no arguments at all count as ``{}``."""
    if not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, f"the arguments are not valid JSON: {exc}"
    if not isinstance(value, dict):
        return {}, f"the arguments are not a JSON object but {type(value).__name__}: {raw[:100]}"
    return value, None


def make_tool_call(call_id: str, name: str, raw_arguments: str) -> ToolCall:
    arguments, error = parse_arguments(raw_arguments)
    return ToolCall(call_id, name, arguments, raw_arguments=raw_arguments, arguments_error=error)


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""

    def add(self, fragment: Mapping[str, Any]) -> None:
        function = fragment.get("function") or {}
        self.id = self.id or str(fragment.get("id") or "")
        name = str(function.get("name") or "")
        if name and name != self.name:  # some servers repeat the whole name in every fragment
            self.name += name
        self.arguments += _arguments_text(function.get("arguments"))


def _arguments_text(value: Any) -> str:
    """A fragment's arguments: a string as the protocol says, or an object some servers send instead."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class ChunkDecoder:
    """Turns the chunks of one streamed answer into events: text at once, tool calls at :meth:`finish`."""

    def __init__(self) -> None:
        self.started = False  # text or a tool-call fragment has arrived (the "first token")
        self.finish_reason: str | None = None
        self._calls: dict[int, _PartialCall] = {}

    def feed(self, chunk: Mapping[str, Any]) -> list[LlmEvent]:
        """The events of one chunk; a chunk without choices (usage, keep-alive) gives none."""
        events: list[LlmEvent] = []
        for choice in _choices(chunk)[:1]:
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise ProtocolError("a chunk's delta is not an object")
            if text := delta.get("content"):
                self.started = True
                events.append(TextDelta(str(text)))
            self._add_tool_fragments(delta.get("tool_calls") or [])
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        return events

    def finish(self) -> list[LlmEvent]:
        """The tool calls (if any) and :class:`Done`, once the stream has ended."""
        calls = [make_tool_call(p.id or f"call_{i}", p.name, p.arguments) for i, p in self._calls.items()]
        reason = self.finish_reason or ("tool_calls" if calls else "stop")
        return [ToolCallsReady(calls), Done(reason)] if calls else [Done(reason)]

    def _add_tool_fragments(self, fragments: Sequence[Any]) -> None:
        for fragment in fragments:
            if not isinstance(fragment, dict):
                raise ProtocolError("a tool-call fragment is not an object")
            self.started = True
            self._calls.setdefault(self._slot(fragment), _PartialCall()).add(fragment)

    def _slot(self, fragment: Mapping[str, Any]) -> int:
        """The fragment's ``index``; without one, a fragment with a new ``id`` starts a new call."""
        index = fragment.get("index")
        if isinstance(index, int):
            return index
        last = max(self._calls, default=-1)
        new_id = fragment.get("id")
        if last < 0 or (new_id and new_id != self._calls[last].id):
            return last + 1
        return last


def decode_completion(body: Any) -> list[LlmEvent]:
    """The events of a complete (non-streamed) answer."""
    choices = _choices(body)
    if not choices:
        raise ProtocolError(f"the answer has no choices: {error_text(body)}")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ProtocolError("the answer's first choice has no message")
    events: list[LlmEvent] = [TextDelta(str(message["content"]))] if message.get("content") else []
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list) or not all(isinstance(call, dict) for call in calls):
        raise ProtocolError("the answer's tool calls are not a list of objects")
    decoder = ChunkDecoder()
    decoder.feed({"choices": [{"delta": {"tool_calls": [{**c, "index": i} for i, c in enumerate(calls)]}}]})
    decoder.finish_reason = choices[0].get("finish_reason")
    return events + decoder.finish()


def _choices(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise ProtocolError("the answer is not a JSON object")
    choices = body.get("choices") or []
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise ProtocolError("the answer's choices are not a list of objects")
    return choices
