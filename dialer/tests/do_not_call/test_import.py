"""Importing a list from CSV: valid rows are added, listed ones counted, invalid ones reported with their
exact line and column; the body is read as it arrives (chunks cut anywhere, thousands of rows, over-long
lines); a header is required; CSV comes as text/csv or as a multipart file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from dialer.testing import add_campaign
from dialplane.db import SessionFactory

DNC = "/api/v1/do-not-call"
IMPORT = f"{DNC}/import"
CSV = {"content-type": "text/csv"}


async def import_csv(client: httpx.AsyncClient, body: bytes | str, **params: str) -> dict[str, Any]:
    content = body.encode() if isinstance(body, str) else body
    response = await client.post(IMPORT, content=content, headers=CSV, params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def listed(client: httpx.AsyncClient, **params: str) -> dict[str, dict[str, Any]]:
    items = (await client.get(DNC, params={"limit": 100, **params})).json()["items"]
    return {item["number"]: item for item in items}


MIXED = (
    "Number,Match,Reason,Expires_At\r\n"  # 1: the header (any case, CRLF)
    "+12025550101,,opted out by letter,\r\n"  # 2
    "+1 202 555 0102,exact,,2099-01-01T00:00:00Z\r\n"  # 3
    "+1312,prefix,registry,\r\n"  # 4
    "not-a-number,,,\r\n"  # 5: number
    "+12025550103,sometimes,,\r\n"  # 6: match
    ",,,\r\n"  # 7: number missing
    "\r\n"  # 8: blank, skipped
    "+12025550104,,,2001-01-01\r\n"  # 9: expires_at passed
    "+12025550105,,,next week\r\n"  # 10: expires_at unreadable
    "+12025550101,,again,\r\n"  # 11: listed (earlier in the file)
    '"+12025550106",exact,"a reason, with a comma\r\n'  # 12-13: a quoted field over two lines
    'and ""quotes""",\r\n'
    "+12025550107,exact,x,,surplus\r\n"  # 14: too many cells
    "+1 (202) 555-0108"  # 15: no newline at the end
)


async def test_rows_are_added_counted_and_reported_with_their_exact_line(client: httpx.AsyncClient) -> None:
    result = await import_csv(client, MIXED)

    assert (result["added"], result["already_listed"], result["invalid"]) == (5, 1, 6)
    errors = [(error["line"], error["field"]) for error in result["errors"]]
    assert errors == [
        (5, "number"),
        (6, "match"),
        (7, "number"),
        (9, "expires_at"),
        (10, "expires_at"),
        (14, None),
    ]
    assert "must be in the future" in result["errors"][3]["message"]
    entries = await listed(client)
    assert set(entries) == {"+12025550101", "+12025550102", "+1312", "+12025550106", "+12025550108"}
    assert entries["+12025550101"]["reason"] == "opted out by letter"
    assert entries["+12025550102"]["expires_at"] == "2099-01-01T00:00:00Z"
    assert entries["+1312"]["match"] == "prefix"
    assert entries["+12025550106"]["reason"] == 'a reason, with a comma\nand "quotes"'
    assert {(e["source"], e["created_by"], e["campaign_id"]) for e in entries.values()} == {
        ("import", "api_key:test", None)
    }


async def test_entries_listed_before_are_counted_not_added_again(client: httpx.AsyncClient) -> None:
    await client.post(DNC, json={"number": "+12025550101", "reason": "first"})
    result = await import_csv(client, "number,reason\n+12025550101,second\n+12025550102,new\n")
    assert (result["added"], result["already_listed"], result["invalid"]) == (1, 1, 0)
    assert (await listed(client))["+12025550101"]["reason"] == "first"


async def test_a_multipart_file_goes_to_the_campaign_s_list(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    campaign = str(await add_campaign(sessions))
    files = {"file": ("registry.csv", b"number\n+12025550101\n+12025550102\n", "text/csv")}
    response = await client.post(IMPORT, params={"campaign_id": campaign}, files=files)

    assert response.json() == {"added": 2, "already_listed": 0, "invalid": 0, "errors": []}
    assert set(await listed(client, campaign_id=campaign)) == {"+12025550101", "+12025550102"}
    assert await listed(client) == {}
    no_file = await client.post(IMPORT, files={"other": ("x.csv", b"number\n", "text/csv")})
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file"


async def chunked(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_large_file_streamed_in_odd_chunks_is_read_whole_and_errors_are_capped(
    client: httpx.AsyncClient,
) -> None:
    valid = [f"+1202{n:07d},exact,registry copy" for n in range(2500)]
    invalid = ["+1202,exact,too short"] * 1200
    body = "\n".join(["number,match,reason", *valid, *invalid]).encode()

    response = await client.post(IMPORT, content=chunked(body, 997), headers=CSV)

    result = response.json()
    assert (result["added"], result["already_listed"], result["invalid"]) == (2500, 0, 1200)
    assert len(result["errors"]) == 1000
    assert result["errors"][0]["line"] == 2502 and result["errors"][-1]["line"] == 3501
    assert (await client.get(f"{DNC}/check", params={"number": "+12020001234"})).json()["blocked"]


async def test_over_long_and_non_utf8_lines_are_reported_and_the_rest_is_read(
    client: httpx.AsyncClient,
) -> None:
    long_line = b"+12025550101,exact," + b"x" * 5000
    body = b"\xef\xbb\xbfnumber,match,reason\n" + long_line + b"\n+12025550102\n\xff\xfe,bad\n+12025550103\n"
    result = await import_csv(client, body)
    assert (result["added"], result["invalid"]) == (2, 2)
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(2, None), (4, None)]
    assert "longer than 4096 bytes" in result["errors"][0]["message"]
    assert "not UTF-8" in result["errors"][1]["message"]


async def test_an_unclosed_quote_is_reported_at_the_line_it_opens(client: httpx.AsyncClient) -> None:
    result = await import_csv(
        client, 'number,reason\n+12025550101,ok\n+12025550102,"never closed\n+12025550103\n'
    )
    assert result["added"] == 1
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(3, None)]
    assert "not closed" in result["errors"][0]["message"]


async def test_a_missing_or_wrong_header_is_a_422_naming_header(client: httpx.AsyncClient) -> None:
    for body, says in (
        (b"", "the file is empty"),
        (b"\n\n", "the file is empty"),
        (b"+12025550101\n+12025550102\n", "unknown column '+12025550101'"),
        (b"reason,match\nx,exact\n", "no 'number' column"),
        (b"number,number\n", "named twice"),
        (b"number,note\n", "unknown column 'note'"),
    ):
        response = await client.post(IMPORT, content=body, headers=CSV)
        assert response.status_code == 422, body
        (error,) = response.json()["errors"]
        assert error["field"] == "header" and says in error["message"], (body, error)


async def test_only_csv_or_multipart_bodies_are_taken(client: httpx.AsyncClient) -> None:
    response = await client.post(IMPORT, json={"number": "+12025550101"})
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    assert (await client.post(IMPORT, content=b"number\n+12025550101\n")).status_code == 415
