"""Hostile values through the gateway: phone numbers with letters or 30 digits, time zones that do not
exist, path ids that are not UUIDs, huge limits and bad cursors, SQL-ish text, CR/LF aimed at response
headers, and spreadsheet formulas in CSV exports. Refusals are 4xx problem+json naming the problem, never a
500, and leave every table as it was; text that is accepted comes back exactly as given."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

Problem = Callable[..., dict[str, Any]]
Counts = Callable[[], Awaitable[dict[str, int]]]

BAD_NUMBERS = {
    "letters": "+1202555CALL",
    "30 digits": "+" + "1" * 30,
    "16 digits": "+1202555010012345",
    "no plus": "12025550100",
    "sql": "+1' OR '1'='1",
    "crlf": "+12025550100\r\nX-Injected: 1",
}
NUMBER_FIELDS = {"/api/v1/calls": "to", "/api/v1/leads": "phone", "/api/v1/do-not-call": "number"}


@pytest.mark.parametrize("number", BAD_NUMBERS.values(), ids=BAD_NUMBERS.keys())
@pytest.mark.parametrize(("path", "field"), NUMBER_FIELDS.items())
async def test_a_malformed_number_is_refused_by_field_and_nothing_is_stored(
    path: str,
    field: str,
    number: str,
    client: httpx.AsyncClient,
    expect_problem: Problem,
    row_counts: Counts,
) -> None:
    before = await row_counts()
    expect_problem(await client.post(path, json={field: number}), 422, field)
    assert await row_counts() == before


@pytest.mark.parametrize("number", BAD_NUMBERS.values(), ids=BAD_NUMBERS.keys())
async def test_a_malformed_number_to_check_is_refused(
    number: str, client: httpx.AsyncClient, expect_problem: Problem
) -> None:
    answer = await client.get("/api/v1/do-not-call/check", params={"number": number})
    expect_problem(answer, 422, "number")


NO_SUCH_ZONES = ["Mars/Olympus_Mons", "America/Atlantis", "UTC+25", "../../etc/passwd", "Europe/Berlin\r\n"]


@pytest.mark.parametrize("zone", NO_SUCH_ZONES)
async def test_a_time_zone_that_does_not_exist_is_refused(
    zone: str, client: httpx.AsyncClient, expect_problem: Problem, row_counts: Counts
) -> None:
    before = await row_counts()
    lead = await client.post("/api/v1/leads", json={"phone": "+12025550120", "timezone": zone})
    expect_problem(lead, 422, "timezone")
    call = await client.post(
        "/api/v1/calls", json={"to": "+12025550120", "agent": {"lead": {"timezone": zone}}}
    )
    expect_problem(call, 422, "timezone")
    assert await row_counts() == before


async def test_a_time_zone_that_does_not_exist_is_refused_when_a_lead_changes(
    client: httpx.AsyncClient, expect_problem: Problem
) -> None:
    created = await client.post("/api/v1/leads", json={"phone": "+12025550121", "timezone": "Europe/Berlin"})
    assert created.status_code == 201, created.text
    lead_id = created.json()["id"]
    expect_problem(
        await client.patch(f"/api/v1/leads/{lead_id}", json={"timezone": "Mars/Olympus"}), 422, "timezone"
    )
    assert (await client.get(f"/api/v1/leads/{lead_id}")).json()["timezone"] == "Europe/Berlin"


ID_PATHS = [
    "/api/v1/calls/{}",
    "/api/v1/calls/{}/events",
    "/api/v1/leads/{}",
    "/api/v1/leads/imports/{}",
    "/api/v1/campaigns/{}",
    "/api/v1/campaigns/{}/report",
    "/api/v1/do-not-call/{}",
    "/api/v1/meetings/{}",
    "/api/v1/calls/{}/conversation",
]
NOT_UUIDS = ["42", "not-a-uuid", "' OR 1=1 --", "%00", "%C0%AE", "00000000-0000-0000-0000-00000000000g"]


@pytest.mark.parametrize("value", NOT_UUIDS)
@pytest.mark.parametrize("template", ID_PATHS)
async def test_an_id_that_is_not_an_id_is_a_422_or_404(
    template: str, value: str, client: httpx.AsyncClient, expect_problem: Problem
) -> None:
    answer = await client.get(template.format(value))
    assert answer.status_code in (404, 422), (answer.status_code, answer.text)
    expect_problem(answer, answer.status_code)


TEXT_IDS = ["/api/v1/status/{}", "/api/v1/agent-profiles/{}", "/api/v1/voices/{}/preview"]
ODD_TEXT = [
    "%14%01",
    "%C2%A2g",
    "..%2F..%2Finternal",
    "x%0D%0ALocation:%20http://evil",
    "'%3B DROP TABLE calls;--",
]


@pytest.mark.parametrize("value", ODD_TEXT)
@pytest.mark.parametrize("template", TEXT_IDS)
async def test_odd_text_in_a_path_is_answered_not_a_500(
    template: str, value: str, client: httpx.AsyncClient, expect_problem: Problem
) -> None:
    answer = await client.get(template.format(value))
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    expect_problem(answer, answer.status_code)
    assert "location" not in answer.headers


LIST_PATHS = [
    "/api/v1/calls",
    "/api/v1/leads",
    "/api/v1/campaigns",
    "/api/v1/do-not-call",
    "/api/v1/dial-refusals",
]
BAD_PAGES = {
    "huge limit": {"limit": "1000000000000"},
    "negative limit": {"limit": "-1"},
    "zero limit": {"limit": "0"},
    "negative cursor": {"cursor": "-1"},
    "garbage cursor": {"cursor": "' OR 1=1 --"},
    "forged cursor": {"cursor": "WyJub3QgYSBtb21lbnQiLCJ4Il0"},  # ["not a moment","x"]
    "huge cursor": {"cursor": "A" * 10_000},
}


@pytest.mark.parametrize("params", BAD_PAGES.values(), ids=BAD_PAGES.keys())
@pytest.mark.parametrize("path", LIST_PATHS)
async def test_a_bad_page_request_is_refused_by_name(
    path: str, params: dict[str, str], client: httpx.AsyncClient, expect_problem: Problem
) -> None:
    (name,) = params
    expect_problem(await client.get(path, params=params), 422, name)


SQLISH = [
    "'; DROP TABLE leads; --",
    "Robert'); DELETE FROM calls;--",
    "1 OR 1=1",
    "\\'; SELECT pg_sleep(5);--",
]


@pytest.mark.parametrize("text", SQLISH)
async def test_sqlish_text_is_stored_and_searched_as_plain_text(text: str, client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/leads", json={"phone": "+12025550130", "name": text})
    assert created.status_code == 201, created.text
    lead = (await client.get(f"/api/v1/leads/{created.json()['id']}")).json()
    assert lead["name"] == text
    campaign = await client.post("/api/v1/campaigns", json={"name": text})
    assert campaign.status_code == 201, campaign.text
    assert campaign.json()["name"] == text
    for path in ("/api/v1/leads", "/api/v1/do-not-call"):
        assert (await client.get(path)).status_code == 200
    await client.delete(f"/api/v1/leads/{created.json()['id']}")


CRLF = "x\r\nSet-Cookie: injected=1"


async def test_crlf_never_reaches_a_response_header(
    client: httpx.AsyncClient, expect_problem: Problem
) -> None:
    profile = await client.post("/api/v1/agent-profiles", json={"name": CRLF})
    expect_problem(profile, 422, "name")
    idempotent = await client.post(
        "/api/v1/calls", json={"to": "+12025550131"}, headers={"Idempotency-Key": "key\tvalue"}
    )
    assert idempotent.status_code in (201, 422), idempotent.text
    for answer in (
        profile,
        idempotent,
        await client.get("/health", headers={"X-Request-ID": "id%0D%0ASet-Cookie:x"}),
        await client.post("/api/v1/leads", json={"phone": "+12025550132", "name": CRLF}),
    ):
        assert "set-cookie" not in answer.headers
        assert all("\r" not in value and "\n" not in value for value in answer.headers.values())


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


async def test_do_not_call_export_neutralises_every_formula_cell(client: httpx.AsyncClient) -> None:
    for index, formula in enumerate(FORMULAS):
        entry = {"number": f"+1202555014{index}", "reason": formula}
        added = await client.post("/api/v1/do-not-call", json=entry)
        assert added.status_code == 201, added.text
    rows = [["number", "match", "reason"]]
    rows += [[f"+1202555015{index}", "exact", formula] for index, formula in enumerate(FORMULAS)]
    answer = await client.post(
        "/api/v1/do-not-call/import", content=csv_bytes(rows), headers={"Content-Type": "text/csv"}
    )
    assert answer.json()["added"] == len(FORMULAS), answer.text
    export = await client.get("/api/v1/do-not-call/export")
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text, newline="")))
    cells = [cell for row in rows[1:] for cell in row if cell]
    assert len(rows) == 1 + 2 * len(FORMULAS), rows
    assert sorted(row[2] for row in rows[1:]) == sorted(["'" + formula for formula in FORMULAS] * 2), rows
    assert not [cell for cell in cells if cell[0] in "=+-@\t\r"], cells


async def test_an_exported_list_imports_back_to_the_same_reasons(client: httpx.AsyncClient) -> None:
    campaign = (await client.post("/api/v1/campaigns", json={"name": f"round trip {uuid.uuid4()}"})).json()[
        "id"
    ]
    for index, formula in enumerate(FORMULAS):
        entry = {"number": f"+1202555016{index}", "reason": formula, "campaign_id": campaign}
        assert (await client.post("/api/v1/do-not-call", json=entry)).status_code == 201
    export = (await client.get("/api/v1/do-not-call/export", params={"campaign_id": campaign})).content
    other = (await client.post("/api/v1/campaigns", json={"name": f"copy {uuid.uuid4()}"})).json()["id"]
    answer = await client.post(
        "/api/v1/do-not-call/import",
        params={"campaign_id": other},
        content=export,
        headers={"Content-Type": "text/csv"},
    )
    assert answer.json()["added"] == len(FORMULAS), answer.text
    listed = (await client.get("/api/v1/do-not-call", params={"campaign_id": other, "limit": 100})).json()
    assert sorted(item["reason"] for item in listed["items"]) == sorted(FORMULAS)


NUL_QUERIES = [
    ("/api/v1/leads", "q"),
    ("/api/v1/leads", "partner"),
    ("/api/v1/leads", "phone"),
    ("/api/v1/meetings", "calendar"),
    ("/api/v1/meetings", "call_id"),
    ("/api/v1/do-not-call", "number"),
    ("/api/v1/calls", "to"),
]


@pytest.mark.parametrize(("path", "name"), NUL_QUERIES)
async def test_a_nul_character_in_a_query_filter_is_refused_by_name(
    path: str, name: str, client: httpx.AsyncClient, expect_problem: Problem
) -> None:
    """(PostgreSQL cannot hold NUL in text: passed on to it, the filter would be a 500.)"""
    expect_problem(await client.get(path, params={name: "+1202\x00"}), 422, name)
