"""The active system prompt: the default file until one is set, set and reset through the API (templates
checked), and what the conversation engine reads (kept a few seconds, forgotten when this process writes)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ai_agent.profiles import prompt
from ai_agent.profiles.prompt import PromptCache, active_system_prompt
from ai_agent.profiles.repository import set_setting
from dialplane.db import SessionFactory, transaction

PROMPT = "/api/v1/settings/system-prompt"
DEFAULT_FILE = Path(prompt.__file__).parents[1] / "prompts" / "default_system_prompt.md"
CUSTOM = "You are $agent_name calling $lead_name for $company. It costs $5, in $$USD."


async def test_the_default_prompt_is_active_until_another_is_set(client: httpx.AsyncClient) -> None:
    default = DEFAULT_FILE.read_text(encoding="utf-8")

    before = await client.get(PROMPT)
    put = await client.put(PROMPT, json={"prompt": CUSTOM})
    after = await client.get(PROMPT)
    reset = await client.delete(PROMPT)
    again = await client.get(PROMPT)
    shipped = await client.get(f"{PROMPT}/default")

    assert before.json() == {"prompt": default, "is_default": True, "updated_at": None}
    assert put.status_code == 200 and put.json()["prompt"] == CUSTOM and not put.json()["is_default"]
    assert after.json() == put.json() and after.json()["updated_at"] is not None
    assert reset.status_code == 200 and reset.json() == before.json()
    assert again.json() == before.json()
    assert shipped.status_code == 200 and shipped.json() == {"prompt": default}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prompt": ""}, "at least 1 character"),
        ({"prompt": " \n "}, "must not be blank"),
        ({"prompt": "x" * 20_001}, "at most 20000 characters"),
        ({"prompt": "Hello $lead_nmae"}, "unknown placeholder $lead_nmae"),
        ({"prompt": "Pay in $USD"}, "write $$ for a literal $"),
        ({"prompt": "nul \x00"}, "NUL"),
        ({}, "Field required"),
        ({"prompt": "ok", "extra": 1}, "Extra inputs"),
    ],
)
async def test_bad_prompts_are_refused_naming_the_problem(
    client: httpx.AsyncClient, body: dict[str, object], message: str
) -> None:
    response = await client.put(PROMPT, json=body)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert (await client.get(PROMPT)).json()["is_default"] is True


async def test_the_engine_reads_the_prompt_set_through_this_process_at_once(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    async with transaction(sessions) as session:
        first = await active_system_prompt(session)
    await client.put(PROMPT, json={"prompt": CUSTOM})
    async with transaction(sessions) as session:
        second = await active_system_prompt(session)
    await client.delete(PROMPT)
    async with transaction(sessions) as session:
        third = await active_system_prompt(session)

    assert first == third == DEFAULT_FILE.read_text(encoding="utf-8")
    assert second == CUSTOM


async def test_another_process_s_change_is_seen_once_the_cache_expires(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(prompt, "cache", PromptCache(ttl=5.0, clock=lambda: now[0]))
    async with transaction(sessions) as session:
        before = await active_system_prompt(session)
        await set_setting(session, prompt.SYSTEM_PROMPT_KEY, CUSTOM)  # as another process would
    async with transaction(sessions) as session:
        cached = await active_system_prompt(session)
        now[0] += 5.0
        fresh = await active_system_prompt(session)

    assert before == cached != CUSTOM
    assert fresh == CUSTOM
