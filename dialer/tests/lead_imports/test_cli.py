"""``dialplane leads import FILE`` against a running dialer: it uploads, follows the import and prints what
came of it; exit 0 when the import completed (even with refused rows), non-zero when it could not be done."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from rich.console import Console

from dialer.lead_imports.cli import LeadImportCommand, credentials
from dialer.main import create_app
from dialer.settings import Settings
from dialer.testing import add_campaign, principal
from dialplane.cli import main
from dialplane.db import SessionFactory
from dialplane.testing.http import SignedPrincipal, serving

from .conftest import LEAD_SCOPES

FILE = b"phone,name,consent\n+12025550100,Ann,yes\n+12025550101,Bob,perhaps\n+12025550100,Ann B.,\n"


@pytest_asyncio.fixture
async def dialer_url(worker_settings: Settings, sessions: SessionFactory) -> AsyncIterator[str]:
    """A dialer served over HTTP whose own worker imports."""
    async with serving(create_app(worker_settings)) as url:
        yield url


def run_command(url: str, path: Path, campaign: str | None = None) -> tuple[int, str, str]:
    """(exit code, output, messages) of the command against the dialer (signed as the gateway would)."""
    out, err = Console(record=True, width=200), Console(record=True, width=200, stderr=True)
    with httpx.Client(base_url=url, auth=SignedPrincipal(principal(LEAD_SCOPES)), timeout=30) as client:
        command = LeadImportCommand(client, out, err, poll_interval=0.05, shown_errors=5)
        code = command.run(path, campaign)
    return code, out.export_text(), err.export_text()


async def test_a_file_is_imported_and_its_outcome_printed(
    dialer_url: str, sessions: SessionFactory, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(FILE)
    campaign_id = await add_campaign(sessions)

    code, out, _ = await asyncio.to_thread(run_command, dialer_url, path, str(campaign_id))

    assert code == 0, out
    assert "completed: 3 rows: 1 created, 1 merged, 1 failed (leads.csv" in out
    assert "line 3, consent: consent is true or false" in out


async def test_a_refused_upload_is_reported_and_exits_non_zero(
    dialer_url: str, sessions: SessionFactory, tmp_path: Path
) -> None:
    large = tmp_path / "large.csv"
    large.write_bytes(b"phone\n" + b"+12025550100\n" * 400_000)  # 5 MB, refused early, sent whole
    no_phone = tmp_path / "names.csv"
    no_phone.write_bytes(b"name\nAnn\n")

    unknown_campaign = await asyncio.to_thread(run_command, dialer_url, large, str(uuid.uuid4()))
    no_phone_column = await asyncio.to_thread(run_command, dialer_url, no_phone)

    assert unknown_campaign[0] == 1 and "campaign_id: no campaign with id" in unknown_campaign[2]
    assert no_phone_column[0] == 1 and "no 'phone' column" in no_phone_column[2]


def test_bad_usage_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = main(["leads", "import", str(tmp_path / "none.csv"), "--token", "t"])
    (tmp_path / "a.csv").write_bytes(FILE)
    no_token = main(["leads", "import", str(tmp_path / "a.csv"), "--token", ""])

    assert (missing, no_token) == (2, 2)
    assert "no such file" in capsys.readouterr().err
    assert credentials("dpk_0123456789abcdef_x") == {"X-API-Key": "dpk_0123456789abcdef_x"}
    assert credentials("eyJ.a.b") == {"Authorization": "Bearer eyJ.a.b"}
