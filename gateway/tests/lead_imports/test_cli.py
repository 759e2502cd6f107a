"""``uv run dialplane leads import FILE`` end to end: the gateway and the dialer served over HTTP, a user's
token; the upload streams through both, the dialer's worker imports it, the command prints the outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from dialer.main import create_app as create_dialer
from dialer.testing import add_campaign, dialer_settings
from dialplane.cli import main
from dialplane.db import SessionFactory
from dialplane.testing.http import serving
from gateway.main import create_app
from gateway.testing import add_user, gateway_settings

from .conftest import PASSWORD


async def test_the_command_imports_a_file_through_the_gateway(
    database_url: str, sessions: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "my leads.csv"
    path.write_bytes(b"Phone,Name,Time Zone\n+12025550100,Ann,America/New_York\n+12025550101,Bob,Mars/Base\n")
    campaign_id = await add_campaign(sessions)
    await add_user(sessions, "ops", PASSWORD, ["leads:read", "leads:write"])
    dialer = create_dialer(dialer_settings(database_url, import_poll_interval_seconds=0.05))

    async with (
        serving(dialer) as dialer_url,
        serving(create_app(gateway_settings(database_url, dialer_url=dialer_url))) as api,
    ):
        async with httpx.AsyncClient(base_url=api) as client:
            answer = await client.post("/api/v1/token", data={"username": "ops", "password": PASSWORD})
        args = ["leads", "import", str(path), "--api", api, "--token", answer.json()["access_token"]]
        code = await asyncio.to_thread(main, [*args, "--campaign", str(campaign_id)])

    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "completed: 2 rows: 1 created, 0 merged, 1 failed (my leads.csv" in printed
    assert "line 3, timezone: unknown time zone 'Mars/Base'" in printed
