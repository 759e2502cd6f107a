"""Importing a lead file: valid rows become leads (merged by phone, the fields a row gives overwrite, the
others stay), refused rows are reported by line and field, the leads join the campaign, and the job says
how it went."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from sqlalchemy import delete, insert, select

from dialer.settings import Settings
from dialer.tables import campaign_leads, lead_import_chunks, leads
from dialer.testing import add_campaign
from dialplane.db import SessionFactory, transaction

from .conftest import import_id_of, run_worker_until_finished, upload

FILE = """\
Phone,Name,Email,Consent,Consent At,Notes
+1 202 555 0100,Ann,ann@example.com,yes,2026-01-02T03:04:05Z,first
+12025550101,Bob,,no,,
+12025550100,Ann B.,,,,second
not a number,Cy,,,,
+12025550102,Di,di@,maybe,,
+12025550103,Ed,,,

+12025550104,"Fay
Gee",fay@example.com,1,,"a,b"
+12025550105,Gus,gus@example.com,yes,yesterday,
"""


async def stored_leads(sessions: SessionFactory) -> dict[str, dict[str, Any]]:
    async with transaction(sessions) as session:
        rows = (await session.execute(select(leads))).mappings().all()
    return {row["phone"]: dict(row) for row in rows}


async def test_rows_become_leads_and_refused_rows_are_reported_by_line_and_field(
    client: httpx.AsyncClient, sessions: SessionFactory, worker_settings: Settings
) -> None:
    campaign_id = await add_campaign(sessions)
    import_id = await import_id_of(await upload(client, FILE.encode(), campaign_id=campaign_id))

    assert await run_worker_until_finished(sessions, worker_settings, import_id) == "completed"

    job = (await client.get(f"/api/v1/leads/imports/{import_id}")).json()
    assert job["status"] == "completed" and job["lines_done"] == 11
    counts = {key: job[f"rows_{key}"] for key in ("done", "created", "merged", "failed")}
    assert counts == {"done": 8, "created": 3, "merged": 1, "failed": 4}
    assert job["started_at"] <= job["finished_at"]
    errors = (await client.get(job["errors_url"])).json()
    assert [(e["line"], e["field"]) for e in errors["items"]] == [
        (5, "phone"),
        (6, "email"),
        (6, "consent"),
        (7, None),
        (11, "consent_at"),
    ]
    assert "found 5" in errors["items"][3]["message"] and errors["next_cursor"] is None

    found = await stored_leads(sessions)
    assert set(found) == {"+12025550100", "+12025550101", "+12025550104"}
    ann = found["+12025550100"]
    assert (ann["name"], ann["email"], ann["consent"]) == ("Ann B.", "ann@example.com", True)
    assert ann["consent_at"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert ann["custom_fields"] == {"Notes": "second"} and ann["import_id"] == uuid.UUID(import_id)
    assert found["+12025550104"]["name"] == "Fay\nGee" and found["+12025550104"]["custom_fields"] == {
        "Notes": "a,b"
    }
    assert found["+12025550101"]["consent"] is False and found["+12025550101"]["created_by"] == "api_key:test"
    async with transaction(sessions) as session:
        members = (await session.execute(select(campaign_leads))).mappings().all()
        chunks = (await session.execute(select(lead_import_chunks))).all()
    assert {m["lead_id"] for m in members} == {lead["id"] for lead in found.values()}
    assert {m["status"] for m in members} == {"pending"} and all(m["next_attempt_at"] for m in members)
    assert chunks == []


async def test_a_known_lead_gets_the_fields_a_row_gives_and_keeps_the_others(
    client: httpx.AsyncClient, sessions: SessionFactory, worker_settings: Settings
) -> None:
    known = {
        "id": uuid.uuid4(),
        "phone": "+12025550100",
        "name": "Old",
        "email": "old@example.com",
        "consent": True,
        "custom_fields": {"tier": "gold", "notes": "old"},
        "created_by": "user:alice",
        "status": "contacted",
    }
    async with transaction(sessions) as session:
        await session.execute(insert(leads).values(**known))
    content = b"phone,name,email,notes,language\n+12025550100,New,,new,\n+12025550100,,,,de\n"
    import_id = await import_id_of(await upload(client, content))

    assert await run_worker_until_finished(sessions, worker_settings, import_id) == "completed"

    lead = (await stored_leads(sessions))["+12025550100"]
    assert (lead["name"], lead["email"], lead["language"], lead["consent"]) == (
        "New",
        "old@example.com",
        "de",
        True,
    )
    assert lead["custom_fields"] == {"tier": "gold", "notes": "new"}
    assert (lead["id"], lead["created_by"], lead["status"]) == (known["id"], "user:alice", "contacted")
    job = (await client.get(f"/api/v1/leads/imports/{import_id}")).json()
    assert (job["rows_created"], job["rows_merged"]) == (0, 2)


async def test_errors_come_a_page_at_a_time_in_line_order(
    client: httpx.AsyncClient, sessions: SessionFactory, worker_settings: Settings
) -> None:
    content = b"phone,consent\n" + b"".join(b"+1202555%04d,maybe\n" % n for n in range(7))
    import_id = await import_id_of(await upload(client, content))
    await run_worker_until_finished(sessions, worker_settings, import_id)

    lines: list[int] = []
    cursor: str | None = None
    for _ in range(4):
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"/api/v1/leads/imports/{import_id}/errors", params=params)).json()
        lines += [e["line"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    bad_cursor = await client.get(f"/api/v1/leads/imports/{import_id}/errors", params={"cursor": "x"})
    too_many = await client.get(f"/api/v1/leads/imports/{import_id}/errors", params={"limit": 1001})

    assert lines == [2, 3, 4, 5, 6, 7, 8]
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["field"] == "cursor"
    assert too_many.status_code == 422


async def test_a_file_with_only_a_header_completes_with_no_rows(
    client: httpx.AsyncClient, sessions: SessionFactory, worker_settings: Settings
) -> None:
    import_id = await import_id_of(await upload(client, b"phone,name"))
    assert await run_worker_until_finished(sessions, worker_settings, import_id) == "completed"
    job = (await client.get(f"/api/v1/leads/imports/{import_id}")).json()
    assert (job["lines_done"], job["rows_done"], job["error"]) == (1, 0, None)


async def test_a_file_that_cannot_be_read_fails_the_import_and_is_deleted(
    client: httpx.AsyncClient, sessions: SessionFactory, worker_settings: Settings
) -> None:
    rows = b"".join(b"+1202555%04d,Lead\n" % n for n in range(30_000))
    import_id = await import_id_of(await upload(client, b"phone,name\n" + rows))
    async with transaction(sessions) as session:
        await session.execute(delete(lead_import_chunks).where(lead_import_chunks.c.seq == 1))

    assert await run_worker_until_finished(sessions, worker_settings, import_id) == "failed"

    job = (await client.get(f"/api/v1/leads/imports/{import_id}")).json()
    assert job["error"] == "part 2 of 3 of the stored file is missing" and job["finished_at"] is not None
    async with transaction(sessions) as session:
        assert (await session.execute(select(lead_import_chunks))).all() == []
