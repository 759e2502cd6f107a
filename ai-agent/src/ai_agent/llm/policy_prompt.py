"""The default system prompt for real LLMs: the conversation the offline policy holds, in words.

``prompts/default_system_prompt.md`` is a :class:`string.Template` (``$company``, ``$lead_name``, …), filled
from the same :class:`~ai_agent.llm.policy_lines.CallContext` as :class:`~ai_agent.llm.policy.DialoguePolicy`;
offer it together with :data:`ai_agent.llm.policy_tools.TOOLS`.
"""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from string import Template
from zoneinfo import ZoneInfo

from ai_agent.llm.policy_lines import CallContext
from ai_agent.llm.policy_speech import WEEKDAYS, say_phone, say_time

PROMPT_RESOURCE = "default_system_prompt.md"


def default_system_prompt(context: CallContext, now: dt.datetime) -> str:
    """The prompt for this call; ``now`` (aware) is shown in the lead's zone."""
    return render_prompt(
        (files("ai_agent") / "prompts" / PROMPT_RESOURCE).read_text(encoding="utf-8"), context, now
    )


def render_prompt(template_text: str, context: CallContext, now: dt.datetime) -> str:
    """A prompt template (``$company``, ``$lead_name``, …) filled in for this call; unknown ``$names`` are
    left as they are (an edited prompt may contain dollar signs)."""
    local = now.astimezone(ZoneInfo(context.timezone))
    number = context.callback_number
    return Template(template_text).safe_substitute(
        agent_name=context.agent_name,
        company=context.company,
        lead_name=context.lead_name or "the person who answers",
        meeting_minutes=context.meeting_minutes,
        topic=context.about,
        timezone=context.timezone,
        now=local.replace(microsecond=0).isoformat(),
        weekday=WEEKDAYS[local.weekday()].capitalize(),
        calling_hours=_span(context.calling_hours),
        meeting_hours=_span(context.meeting_hours),
        callback_line=(
            f"If they ask how to reach {context.company}, give this number: {say_phone(number)}."
            if number
            else f"You have no call-back number for {context.company}; do not invent one."
        ),
    )


def _span(hours: tuple[dt.time, dt.time]) -> str:
    return f"from {say_time(hours[0])} to {say_time(hours[1])}"
