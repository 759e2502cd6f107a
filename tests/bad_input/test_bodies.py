"""Hostile request bodies through the gateway: too large (declared, chunked, uploads), nested too deep, not
UTF-8, CSV lines over the import's line limit. Each gets a 4xx problem+json that names the problem, never a
500, and a refused write leaves every table as it was."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

Problem = Callable[..., dict[str, Any]]
Counts = Callable[[], Awaitable[dict[str, int]]]

CALL = {"to": "+12025550100"}
CSV_HEADER = b"phone,name\r\n"


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def multipart(name: str, content: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, "text/csv")}


async def chunked(body: bytes, piece: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), piece):
        yield body[start : start + piece]


async def test_a_json_body_over_the_limit_is_refused_before_anything_is_stored(
    client: httpx.AsyncClient, limits: dict[str, int], expect_problem: Problem, row_counts: Counts
) -> None:
    before = await row_counts()
    padded = {**CALL, "metadata": {"pad": "x" * limits["max_body_bytes"]}}
    answer = await client.post("/api/v1/calls", json=padded)
    problem = expect_problem(answer, 413, "payload_too_large", str(limits["max_body_bytes"]))
    assert problem["max_bytes"] == limits["max_body_bytes"]
    assert await row_counts() == before


async def test_a_chunked_body_that_grows_past_the_limit_is_refused(
    client: httpx.AsyncClient, limits: dict[str, int], expect_problem: Problem, row_counts: Counts
) -> None:
    before = await row_counts()
    body = json.dumps({**CALL, "metadata": {"pad": "x" * limits["max_body_bytes"]}}).encode()
    answer = await client.post(
        "/api/v1/do-not-call", content=chunked(body), headers={"Content-Type": "application/json"}
    )
    expect_problem(answer, 413, "payload_too_large")
    assert await row_counts() == before


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_upload_over_the_upload_limit_is_refused_and_no_import_is_left(
    declared: bool,
    client: httpx.AsyncClient,
    limits: dict[str, int],
    expect_problem: Problem,
    row_counts: Counts,
) -> None:
    before = await row_counts()
    rows = b"+12025550199,lead\r\n" * (limits["max_upload_bytes"] // 18 + 1)
    request = httpx.Request("POST", "http://x", files=multipart("big.csv", CSV_HEADER + rows))
    body, content_type = request.read(), request.headers["content-type"]
    answer = await client.post(
        "/api/v1/leads/import",
        content=body if declared else chunked(body),
        headers={"Content-Type": content_type},
    )
    expect_problem(answer, 413, "payload_too_large", str(limits["max_upload_bytes"]))
    await asyncio.sleep(0.2)  # (the dialer may still be taking the cut stream apart)
    assert await row_counts() == before


@pytest.mark.parametrize("depth", [5_000, 100_000])
async def test_json_nested_deeper_than_the_parser_goes_is_a_400(
    depth: int, client: httpx.AsyncClient, expect_problem: Problem, row_counts: Counts
) -> None:
    before = await row_counts()
    for path in ("/api/v1/calls", "/api/v1/leads", "/api/v1/campaigns", "/api/v1/agent-profiles"):
        answer = await client.post(path, content=nested(depth), headers={"Content-Type": "application/json"})
        assert answer.status_code in (400, 413, 422), (path, answer.status_code, answer.text)
        expect_problem(answer, answer.status_code)
    assert await row_counts() == before


@pytest.mark.parametrize("depth", [100, 300])
async def test_free_json_nested_too_deep_is_refused_by_name(
    depth: int, client: httpx.AsyncClient, expect_problem: Problem, row_counts: Counts
) -> None:
    before = await row_counts()
    deep = json.loads(nested(depth))
    call = await client.post("/api/v1/calls", json={**CALL, "metadata": deep})
    expect_problem(call, 422, "metadata", "nested")
    lead = await client.post("/api/v1/leads", json={"phone": "+12025550101", "custom_fields": deep})
    expect_problem(lead, 422, "custom_fields", "nested")
    assert await row_counts() == before


async def test_free_json_of_a_sensible_depth_is_kept(client: httpx.AsyncClient) -> None:
    shallow = json.loads(nested(10))
    answer = await client.post("/api/v1/calls", json={**CALL, "metadata": shallow})
    assert answer.status_code == 201, answer.text
    assert answer.json()["metadata"] == shallow


INVALID_UTF8 = [
    ("/api/v1/calls", b'{"to": "+12025550100", "metadata": {"note": "\xff\xfe\xc3"}}'),
    ("/api/v1/leads", b'{"phone": "+12025550102", "name": "\xc3\x28"}'),
    ("/api/v1/do-not-call", b'{"number": "+12025550103", "reason": "\xed\xa0\x80"}'),
    ("/api/v1/campaigns", b'{"name": "\x80spring"}'),
]


@pytest.mark.parametrize(("path", "body"), INVALID_UTF8, ids=[path for path, _ in INVALID_UTF8])
async def test_a_json_body_that_is_not_utf8_is_refused(
    path: str, body: bytes, client: httpx.AsyncClient, expect_problem: Problem, row_counts: Counts
) -> None:
    before = await row_counts()
    answer = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code in (400, 422), answer.text
    expect_problem(answer, answer.status_code)
    assert await row_counts() == before


async def test_a_login_form_that_is_not_utf8_is_refused(gateway_url: str, expect_problem: Problem) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, trust_env=False) as anonymous:
        answer = await anonymous.post(
            "/api/v1/token",
            content=b"username=fuzzer&password=%ff%fe\xff",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert 400 <= answer.status_code < 500, answer.text
    expect_problem(answer, answer.status_code)


async def test_a_do_not_call_csv_that_is_not_utf8_adds_nothing(
    client: httpx.AsyncClient, expect_problem: Problem, row_counts: Counts
) -> None:
    before = await row_counts()
    body = b"number,reason\r\n+12025550104,\xff\xfeasked\r\n"
    answer = await client.post(
        "/api/v1/do-not-call/import", content=body, headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        expect_problem(answer, answer.status_code, "utf-8")
        assert await row_counts() == before
    else:
        assert answer.json()["errors"], answer.json()  # the line is reported, not stored half-decoded
        assert (await client.get("/api/v1/do-not-call/check", params={"number": "+12025550104"})).json()[
            "blocked"
        ] is False


async def wait_for_import(client: httpx.AsyncClient, location: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            job: dict[str, Any] = (await client.get(location)).json()
            if job["status"] in ("completed", "failed"):
                return job
            await asyncio.sleep(0.1)


async def test_a_lead_line_over_the_line_limit_is_reported_by_line_and_the_others_imported(
    client: httpx.AsyncClient, limits: dict[str, int]
) -> None:
    long_name = b"x" * (limits["import_max_line_bytes"] + 1)
    body = CSV_HEADER + b"+12025550110,ok\r\n+12025550111," + long_name + b"\r\n+12025550112,ok\r\n"
    answer = await client.post("/api/v1/leads/import", files=multipart("long.csv", body))
    assert answer.status_code == 202, answer.text
    job = await wait_for_import(client, answer.headers["location"])
    assert (job["status"], job["rows_created"], job["rows_failed"]) == ("completed", 2, 1), job
    errors = (await client.get(job["errors_url"])).json()["items"]
    assert [error["line"] for error in errors] == [3], errors
    assert str(limits["import_max_line_bytes"]) in errors[0]["message"], errors


async def test_a_header_line_over_the_line_limit_refuses_the_file_and_stores_nothing(
    client: httpx.AsyncClient, limits: dict[str, int], expect_problem: Problem, row_counts: Counts
) -> None:
    before = await row_counts()
    header = b"phone," + b"c" * (limits["import_max_line_bytes"] + 1) + b"\r\n"
    answer = await client.post(
        "/api/v1/leads/import", files=multipart("wide.csv", header + b"+12025550113,x\r\n")
    )
    expect_problem(answer, 422, "line 1")
    assert await row_counts() == before


async def test_a_do_not_call_line_over_its_line_limit_is_reported_and_the_others_added(
    client: httpx.AsyncClient,
) -> None:
    reason = b"r" * 5_000  # the do-not-call import's line limit is 4096 bytes
    body = b"number,reason\r\n+12025550114," + reason + b"\r\n+12025550115,fine\r\n"
    answer = await client.post(
        "/api/v1/do-not-call/import", content=body, headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["added"], report["invalid"]) == (1, 1), report
    assert [error["line"] for error in report["errors"]] == [2], report
    assert "longer than 4096 bytes" in report["errors"][0]["message"], report
