"""Exporting a list as CSV: the entries in force of one list, cells safe to open in a spreadsheet, and a file
that imports back to the same entries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx

from dialer.policy import do_not_call
from dialer.testing import add_campaign
from dialplane.db import SessionFactory, transaction

DNC = "/api/v1/do-not-call"
HEADER = ["number", "match", "reason", "source", "created_at", "expires_at"]
RISKY_REASONS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2", "@SUM(A1)", "\tTAB", "\rCR"]


async def export(client: httpx.AsyncClient, **params: str) -> list[list[str]]:
    response = await client.get(f"{DNC}/export", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="do-not-call.csv"'
    return list(csv.reader(io.StringIO(response.text, newline="")))


async def entries(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.get(DNC, params={"limit": 100})).json()["items"]
    return items


async def test_cells_that_start_a_formula_are_escaped(client: httpx.AsyncClient) -> None:
    for n, reason in enumerate(RISKY_REASONS):
        await client.post(DNC, json={"number": f"+1202555010{n}", "reason": reason})
    await client.post(DNC, json={"number": "+1312", "match": "prefix", "reason": "plain, with a comma"})

    rows = await export(client)

    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == ["'+1312", *[f"'+1202555010{n}" for n in reversed(range(6))]]
    assert [row[2] for row in rows[1:]] == [
        "plain, with a comma",
        *["'" + r for r in reversed(RISKY_REASONS)],
    ]
    assert all(row[3] == "api" and row[4].startswith("20") and row[5] == "" for row in rows[1:])


async def test_an_export_imports_back_to_the_same_entries(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    for n, reason in enumerate(RISKY_REASONS):
        await client.post(DNC, json={"number": f"+1202555010{n}", "reason": reason})
    await client.post(DNC, json={"number": "+1312", "match": "prefix", "expires_at": "2099-06-01T12:00:00Z"})
    before = await entries(client)
    exported = (await client.get(f"{DNC}/export")).content
    for entry in before:
        assert (await client.delete(f"{DNC}/{entry['id']}")).status_code == 204

    result = await client.post(f"{DNC}/import", content=exported, headers={"content-type": "text/csv"})

    assert result.json() == {"added": 7, "already_listed": 0, "invalid": 0, "errors": []}
    kept = ("number", "match", "reason", "expires_at", "campaign_id")
    assert sorted(tuple(e[k] for k in kept) for e in await entries(client)) == sorted(
        tuple(e[k] for k in kept) for e in before
    )


async def test_only_the_chosen_list_s_entries_in_force_are_exported(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    campaign = str(await add_campaign(sessions))
    await client.post(DNC, json={"number": "+12025550101"})
    await client.post(DNC, json={"number": "+12025550102", "campaign_id": campaign})
    async with transaction(sessions) as session:
        expired = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await do_not_call.add(session, "+12025550103", expires_at=expired)

    assert [row[0] for row in (await export(client))[1:]] == ["'+12025550101"]
    assert [row[0] for row in (await export(client, campaign_id=campaign))[1:]] == ["'+12025550102"]


async def test_a_list_of_thousands_is_exported_whole(client: httpx.AsyncClient) -> None:
    body = "number\n" + "\n".join(f"+1202{n:07d}" for n in range(2500))
    await client.post(f"{DNC}/import", content=body.encode(), headers={"content-type": "text/csv"})
    rows = await export(client)
    assert len(rows) == 2501 and rows[1][0] == "'+12020002499" and rows[-1][0] == "'+12020000000"
