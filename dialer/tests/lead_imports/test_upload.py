"""Uploading a lead file: it is stored in chunks and queued (202 + Location with the job); an upload that
cannot be imported is refused with a 422 naming the problem, and nothing of it is stored."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select

from dialer.settings import Settings
from dialer.tables import lead_import_chunks, lead_imports
from dialer.testing import add_campaign, dialer_client, principal
from dialplane.db import SessionFactory, transaction

from .conftest import upload

HEADER = b"phone,name\n"


async def stored_chunks(sessions: SessionFactory) -> list[bytes]:
    async with transaction(sessions) as session:
        query = select(lead_import_chunks.c.data).order_by(lead_import_chunks.c.seq)
        return list((await session.execute(query)).scalars())


async def count_imports(sessions: SessionFactory) -> int:
    async with transaction(sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(lead_imports)) or 0)


async def test_a_file_is_stored_in_chunks_and_queued(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    rows = b"".join(b"+1202555%04d,Lead %d\n" % (n, n) for n in range(40_000))
    campaign_id = await add_campaign(sessions)
    answer = await upload(
        client,
        [HEADER, rows[:100_000], rows[100_000:]],
        campaign_id=campaign_id,
        filename="C:\\x\\my leads.csv",
    )

    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert answer.headers["location"] == f"/api/v1/leads/imports/{job['id']}"
    assert job["status"] == "queued" and job["filename"] == "my leads.csv"
    assert job["bytes"] == len(HEADER) + len(rows) and job["campaign_id"] == str(campaign_id)
    assert job["errors_url"] == f"/api/v1/leads/imports/{job['id']}/errors"
    chunks = await stored_chunks(sessions)
    assert b"".join(chunks) == HEADER + rows
    assert [len(chunk) for chunk in chunks[:-1]] == [256 * 1024] * 3 and len(chunks[-1]) <= 256 * 1024
    fetched = await client.get(answer.headers["location"])
    assert fetched.json() == job


@pytest.mark.parametrize(
    ("content", "field", "words"),
    [
        (b"", "file", "the file is empty"),
        (b"\n\nphone\n", "file", "header naming the columns) is empty"),
        (b"\xef\xbb\xbfname,email\n", "file", "no 'phone' column"),
        (b"ph\xffone\n+12025550100\n", "file", "the header (line 1) is not UTF-8"),
        (b"phone," + b"x" * 3000 + b"\n", "file", "the header (line 1) is longer than 2048 bytes"),
    ],
)
async def test_a_file_that_cannot_be_imported_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, sessions: SessionFactory, content: bytes, field: str, words: str
) -> None:
    answer = await upload(client, [content[:3], content[3:]])
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    (error,) = answer.json()["errors"]
    assert error["field"] == field and words in error["message"], error
    assert await count_imports(sessions) == 0 and await stored_chunks(sessions) == []


async def test_an_unknown_campaign_is_refused_before_the_file_is_stored(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    unknown = await upload(client, HEADER + b"+12025550100,A\n", campaign_id=uuid.uuid4())
    malformed = await upload(client, HEADER, campaign_id="campaign-7")

    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "campaign_id"
    assert unknown.json()["errors"][0]["type"] == "campaign_not_found"
    assert malformed.status_code == 422 and "not a campaign id" in malformed.json()["errors"][0]["message"]
    assert await count_imports(sessions) == 0 and await stored_chunks(sessions) == []


async def test_a_body_that_is_not_a_multipart_upload_is_refused(client: httpx.AsyncClient) -> None:
    as_json = await client.post("/api/v1/leads/import", json={"phone": "+12025550100"})
    no_file = await client.post("/api/v1/leads/import", files={"campaign_id": (None, b"")})
    other_field = await client.post(
        "/api/v1/leads/import", files={"file": ("a.csv", HEADER), "comment": ("", b"hello")}
    )
    cut_short = await client.post(
        "/api/v1/leads/import",
        content=b"--b\r\nContent-Disposition: form-data; name=file\r\n\r\nphone\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )

    assert as_json.status_code == 422 and "multipart/form-data" in as_json.json()["errors"][0]["message"]
    assert as_json.json()["errors"][0]["field"] == "body"
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file"
    assert other_field.status_code == 422 and other_field.json()["errors"][0]["field"] == "comment"
    assert cut_short.status_code == 422 and "closing boundary" in cut_short.json()["errors"][0]["message"]


async def test_uploading_needs_leads_write_and_reading_needs_leads_read(settings: Settings) -> None:
    async with dialer_client(settings, who=principal(["leads:read"])) as reader:
        refused = await upload(reader, HEADER)
        unknown = await reader.get(f"/api/v1/leads/imports/{uuid.uuid4()}")
        unknown_errors = await reader.get(f"/api/v1/leads/imports/{uuid.uuid4()}/errors")
    async with dialer_client(settings, who=principal(["leads:write"])) as writer:
        not_readable = await writer.get(f"/api/v1/leads/imports/{uuid.uuid4()}")

    assert refused.status_code == 403 and not_readable.status_code == 403
    assert unknown.status_code == 404 and unknown.json()["code"] == "lead_import_not_found"
    assert unknown_errors.status_code == 404
