"""The active system prompt: the one set through the API (``agent_settings``), else the default that ships
in ``prompts/default_system_prompt.md``.

Prompts are :class:`string.Template`\\ s, filled in per call with ``safe_substitute`` (a ``$`` that starts no
placeholder, as in ``$5``, stays as it is). A prompt set here may use only the placeholders the default uses
(``$lead_name``, ``$company``, …), so a misspelt one is refused when it is set instead of being read out on
calls; ``$$`` writes a ``$`` before a word. The conversation engine reads the prompt with
:func:`active_system_prompt`, which keeps it for a few seconds in the process (a write through this process
forgets it at once; another process's write is seen within :data:`CACHE_SECONDS`).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.resources import files
from string import Template

from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.profiles import repository
from ai_agent.profiles.errors import invalid_field

SYSTEM_PROMPT_KEY = "system_prompt"
CACHE_SECONDS = 5.0


@functools.cache
def default_system_prompt() -> str:
    """The prompt that ships with the ai-agent."""
    return (files("ai_agent") / "prompts" / "default_system_prompt.md").read_text(encoding="utf-8")


@functools.cache
def prompt_placeholders() -> frozenset[str]:
    """The placeholders a system prompt may use: those of the default prompt."""
    return frozenset(Template(default_system_prompt()).get_identifiers())


def check_template(value: str, field: str, allowed: Iterable[str]) -> None:
    """Refuse (422 naming ``field``) a template using placeholders other than ``allowed``."""
    unknown = sorted(set(Template(value).get_identifiers()) - set(allowed))
    if unknown:
        known = ", ".join(f"${name}" for name in sorted(allowed))
        names = ", ".join(f"${name}" for name in unknown)
        message = f"unknown placeholder {names} (write $$ for a literal $); known: {known}"
        raise invalid_field(field, message, "template")


@dataclass(frozen=True, slots=True)
class ActivePrompt:
    prompt: str
    is_default: bool
    updated_at: dt.datetime | None


class PromptCache:
    """The active prompt's text, kept for ``ttl`` seconds."""

    def __init__(self, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl, clock
        self._value: tuple[str, float] | None = None

    def get(self) -> str | None:
        if self._value is None or self._clock() >= self._value[1]:
            return None
        return self._value[0]

    def put(self, prompt: str) -> None:
        self._value = (prompt, self._clock() + self._ttl)

    def clear(self) -> None:
        self._value = None


cache = PromptCache()


async def active_system_prompt(session: AsyncSession) -> str:
    """The text of the active global prompt (a template; see :func:`prompt_placeholders`)."""
    prompt = cache.get()
    if prompt is None:
        prompt = (await current(session)).prompt
        cache.put(prompt)
    return prompt


async def current(session: AsyncSession) -> ActivePrompt:
    stored = await repository.get_setting(session, SYSTEM_PROMPT_KEY)
    if stored is None:
        return ActivePrompt(default_system_prompt(), True, None)
    return ActivePrompt(stored.value, False, stored.updated_at)


async def set_prompt(session: AsyncSession, prompt: str) -> ActivePrompt:
    """Make ``prompt`` the active one (422 naming ``prompt`` if it is not a valid template)."""
    check_template(prompt, "prompt", prompt_placeholders())
    stored = await repository.set_setting(session, SYSTEM_PROMPT_KEY, prompt)
    cache.clear()
    return ActivePrompt(stored.value, False, stored.updated_at)


async def reset(session: AsyncSession) -> ActivePrompt:
    """Make the default prompt the active one again."""
    await repository.delete_setting(session, SYSTEM_PROMPT_KEY)
    cache.clear()
    return ActivePrompt(default_system_prompt(), True, None)
