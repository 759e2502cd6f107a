"""The tool specs the policy calls and a real LLM is offered."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence

import pytest

from ai_agent.llm.policy_lines import CallContext
from ai_agent.llm.policy_prompt import default_system_prompt
from ai_agent.llm.policy_sim import SimulatedCall, SimulatedTools, SimulationError
from ai_agent.llm.policy_tools import OUTCOMES, TOOLS
from ai_agent.llm.types import LlmEvent, Message, TextDelta, ToolSpec


def test_the_six_tools_with_object_schemas() -> None:
    assert [tool.name for tool in TOOLS] == [
        "check_calendar_availability",
        "book_meeting",
        "schedule_callback",
        "transfer_to_human",
        "opt_out",
        "end_call",
    ]
    for tool in TOOLS:
        schema = tool.parameters
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert set(schema["required"]) <= set(schema["properties"]), tool.name
        assert tool.description


def test_end_call_outcomes() -> None:
    end_call = TOOLS[-1]
    assert end_call.parameters["properties"]["outcome"]["enum"] == list(OUTCOMES)
    assert {"meeting_booked", "opted_out", "callback_requested", "interested", "no_conversation"} <= set(
        OUTCOMES
    )


def test_the_default_system_prompt_describes_the_same_call() -> None:
    context = CallContext(
        company="Acme Solar", agent_name="Ava", lead_name="Jane Doe", timezone="America/Los_Angeles"
    )
    prompt = default_system_prompt(context, dt.datetime(2025, 3, 4, 17, 0, tzinfo=dt.UTC))
    assert "$" not in prompt
    assert "2025-03-04T09:00:00-08:00 (Tuesday)" in prompt and "America/Los_Angeles" in prompt
    assert "Acme Solar" in prompt and "Jane Doe" in prompt and "automated" in prompt
    for tool in TOOLS:
        assert tool.name in prompt
    for outcome in ("meeting_booked", "callback_requested", "opted_out", "not_interested", "voicemail"):
        assert outcome in prompt


class NoDone:
    async def stream(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> AsyncIterator[LlmEvent]:
        yield TextDelta("Hello.")


async def test_the_simulated_call_refuses_a_stream_without_done() -> None:
    now = dt.datetime(2025, 3, 4, 17, 0, tzinfo=dt.UTC)
    call = SimulatedCall(NoDone(), SimulatedTools(now=now, zone=dt.UTC))
    with pytest.raises(SimulationError):
        await call.start()
