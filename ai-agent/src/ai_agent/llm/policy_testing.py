"""Test support for the offline dialogue policy: a fixed clock and zone, the policy as the tests configure it,
and a simulated call that checks every answer is speakable and ends with the right finish reason."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from ai_agent.llm.policy import DialoguePolicy
from ai_agent.llm.policy_sim import SimulatedCall, SimulatedTools, Turn
from ai_agent.llm.policy_tools import TOOLS
from ai_agent.llm.types import Done, ToolSpec

LA = ZoneInfo("America/Los_Angeles")
NOW = dt.datetime(2025, 3, 4, 17, 0, tzinfo=dt.UTC)  # Tuesday 09:00 in Los Angeles (PST, -08:00)


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, minute, tzinfo=LA)


def make_policy(**overrides: Any) -> DialoguePolicy:
    settings: dict[str, Any] = {
        "company": "Acme Solar",
        "agent_name": "Ava",
        "lead_name": "Jane Doe",
        "timezone": "America/Los_Angeles",
        "now": lambda: NOW,
    }
    return DialoguePolicy(**(settings | overrides))


class Call(SimulatedCall):
    """A simulated call with the policy; every answer must be speakable and end with the right reason."""

    def __init__(
        self,
        policy: DialoguePolicy | None = None,
        *,
        tools: tuple[ToolSpec, ...] = TOOLS,
        fake: SimulatedTools | None = None,
    ) -> None:
        super().__init__(policy or make_policy(), fake or tools_sim(), specs=tools)

    @property
    def fake(self) -> SimulatedTools:
        return self.simulated

    @property
    def policy(self) -> DialoguePolicy:
        assert isinstance(self.model, DialoguePolicy)
        return self.model

    async def turn(self) -> Turn:
        turn = await super().turn()
        done = turn.events[-1]
        assert isinstance(done, Done) and done.finish_reason == ("tool_calls" if turn.calls else "stop")
        assert not re.search(r"[0-9*#_`@]", turn.text), f"not speakable: {turn.text!r}"
        return turn


def tools_sim(**settings: Any) -> SimulatedTools:
    return SimulatedTools(now=NOW, zone=LA, **settings)


async def interested_call(policy: DialoguePolicy | None = None, fake: SimulatedTools | None = None) -> Call:
    call = Call(policy, fake=fake)
    await call.start()
    await call.say("Yes, that sounds interesting.")
    return call
