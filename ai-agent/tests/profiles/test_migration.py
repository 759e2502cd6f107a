"""Migration 0008 inserts the default profile (every tool, a voicemail message) and its constraints refuse
what the API would never store: unknown tools, malformed names and languages, unknown outcomes."""

from __future__ import annotations

import asyncpg
import pytest

from ai_agent.testing import ALL_TOOLS, DEFAULT_VOICEMAIL
from dialplane import migrate
from dialplane.events.postgres import asyncpg_dsn
from dialplane.testing.database import scratch_database


async def test_the_default_profile_and_the_constraints() -> None:
    async with scratch_database(prefix="dialplane_migration_0008") as url:
        await migrate.upgrade_async(url)
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            default = await conn.fetchrow("SELECT * FROM agent_profiles")
            refused = []
            for statement in (
                "INSERT INTO agent_profiles (name, tools) VALUES ('x', '{launch_rockets}')",
                "INSERT INTO agent_profiles (name, tools) VALUES ('../x', '{}')",
                "INSERT INTO agent_profiles (name, tools, language) VALUES ('x', '{}', 'english')",
                "INSERT INTO conversations (call_id, profile, to_number, outcome)"
                " VALUES (gen_random_uuid(), 'default', '+12025550100', 'happy')",
                "INSERT INTO conversations (call_id, profile, to_number, status)"
                " VALUES (gen_random_uuid(), 'default', '+12025550100', 'paused')",
            ):
                with pytest.raises(asyncpg.CheckViolationError) as caught:
                    await conn.execute(statement)
                refused.append(caught.value.constraint_name)
        finally:
            await conn.close()

    assert default is not None and default["name"] == "default"
    assert default["tools"] == ALL_TOOLS and default["voicemail_message"] == DEFAULT_VOICEMAIL
    assert (default["agent_name"], default["company_name"], default["calendar"]) == (
        "Alex",
        "Dialplane",
        "default",
    )
    assert default["system_prompt"] is None and default["voice"] is None and default["language"] is None
    assert refused == [
        "agent_profiles_tools_known",
        "agent_profiles_name_format",
        "agent_profiles_language_format",
        "conversations_outcome_known",
        "conversations_status_known",
    ]
