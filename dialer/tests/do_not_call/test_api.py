"""The do-not-call API: numbers and prefixes listed, looked up, checked as the dial-time policy checks them,
and removed; the global list apart from each campaign's; bad input named; scopes enforced."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx

from dialer.policy import do_not_call
from dialer.testing import add_campaign, principal
from dialplane.db import SessionFactory, transaction
from dialplane.testing.http import SignedPrincipal

DNC = "/api/v1/do-not-call"
CSV = {"content-type": "text/csv"}


async def add(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(DNC, json=body)
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def check(client: httpx.AsyncClient, number: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"{DNC}/check", params={"number": number, **params})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def field_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


async def test_a_listed_number_is_normalised_checked_refused_and_can_be_removed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(DNC, json={"number": "+1 (202) 555-0101", "reason": "asked by letter"})
    entry = response.json()
    assert response.status_code == 201 and response.headers["location"] == f"{DNC}/{entry['id']}"
    assert (entry["number"], entry["match"], entry["campaign_id"]) == ("+12025550101", "exact", None)
    assert (entry["reason"], entry["source"], entry["created_by"]) == (
        "asked by letter",
        "api",
        "api_key:test",
    )
    assert entry["expires_at"] is None
    assert (await client.get(f"{DNC}/{entry['id']}")).json() == entry
    assert await check(client, "+1 202-555-0101") == {"blocked": True, "entry": entry}

    refused = await client.post("/api/v1/calls", json={"to": "+12025550101"})
    assert refused.status_code == 422 and refused.json()["rule"] == "do_not_call"

    deleted = await client.delete(f"{DNC}/{entry['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await client.get(f"{DNC}/{entry['id']}")).status_code == 404
    again = await client.delete(f"{DNC}/{entry['id']}")
    assert again.status_code == 404 and again.json()["code"] == "do_not_call_entry_not_found"
    assert await check(client, "+12025550101") == {"blocked": False, "entry": None}
    assert (await client.post("/api/v1/calls", json={"to": "+12025550101"})).status_code == 201


async def test_an_identical_entry_is_a_409_naming_the_listed_one(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    campaign = str(await add_campaign(sessions))
    first = await add(client, number="+12025550101")

    same = await client.post(DNC, json={"number": "+1 202 555 0101", "match": "exact"})
    on_campaign_list = await client.post(DNC, json={"number": "+12025550101", "campaign_id": campaign})
    as_prefix = await client.post(DNC, json={"number": "+12025550101", "match": "prefix"})

    assert same.status_code == 409 and same.headers["content-type"] == "application/problem+json"
    assert same.json()["code"] == "already_listed" and same.json()["id"] == first["id"]
    assert on_campaign_list.status_code == 201 and as_prefix.status_code == 201


async def test_a_campaign_s_list_is_apart_from_the_global_one(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    campaign = str(await add_campaign(sessions))
    on_campaign = await add(client, number="+12025550102", campaign_id=campaign)
    on_global = await add(client, number="+12025550103")

    global_list = (await client.get(DNC)).json()["items"]
    campaign_list = (await client.get(DNC, params={"campaign_id": campaign})).json()["items"]

    assert [e["id"] for e in global_list] == [on_global["id"]]
    assert [e["id"] for e in campaign_list] == [on_campaign["id"]]
    assert (await check(client, "+12025550102"))["blocked"] is False
    assert (await check(client, "+12025550102", campaign_id=campaign))["entry"] == on_campaign
    assert (await check(client, "+12025550103", campaign_id=campaign))["entry"] == on_global
    # a single call only meets the global list
    assert (await client.post("/api/v1/calls", json={"to": "+12025550102"})).status_code == 201


async def test_an_unknown_campaign_is_a_422_naming_campaign_id(client: httpx.AsyncClient) -> None:
    unknown = str(uuid.uuid4())
    in_body = await client.post(DNC, json={"number": "+12025550101", "campaign_id": unknown})
    in_query = [
        await client.get(DNC, params={"campaign_id": unknown}),
        await client.get(f"{DNC}/check", params={"number": "+12025550101", "campaign_id": unknown}),
        await client.get(f"{DNC}/export", params={"campaign_id": unknown}),
        await client.post(f"{DNC}/import?campaign_id={unknown}", content=b"number\n", headers=CSV),
    ]
    assert field_of(in_body) == ["campaign_id"]
    assert [field_of(response) for response in in_query] == [["query.campaign_id"]] * 4
    for response in [in_body, *in_query]:
        assert f"no campaign with id {unknown}" in response.json()["errors"][0]["message"]


async def test_a_prefix_blocks_every_number_starting_so_and_an_exact_entry_comes_first(
    client: httpx.AsyncClient,
) -> None:
    short = await add(client, number="+1202", match="prefix")
    longer = await add(client, number="+1202555", match="prefix", reason="test range")
    exact = await add(client, number="+12025550150")

    assert (await check(client, "+12025550123"))["entry"] == longer
    assert (await check(client, "+12029999999"))["entry"] == short
    assert (await check(client, "+12025550150"))["entry"] == exact
    assert (await check(client, "+13125550123"))["blocked"] is False
    refused = await client.post("/api/v1/calls", json={"to": "+12025550177"})
    assert refused.status_code == 422 and "numbers starting +1202555" in refused.json()["detail"]


async def test_bad_numbers_and_prefixes_are_422_naming_number(client: httpx.AsyncClient) -> None:
    for body in (
        {"number": "+1 202", "match": "prefix"},
        {"number": "+", "match": "prefix"},
        {"number": "+1234567890123456", "match": "prefix"},
        {"number": "1202", "match": "prefix"},
        {"number": "+1202"},
        {"number": "+1202555CALL"},
        {"number": "+99912345678"},
        {"number": "12025550101"},
    ):
        assert field_of(await client.post(DNC, json=body)) == ["number"], body
    assert field_of(await client.post(DNC, json={"number": "+12025550101", "match": "fuzzy"})) == ["match"]
    unknown_field = await client.post(DNC, json={"number": "+12025550101", "note": "x"})
    assert field_of(unknown_field) == ["note"]


async def test_an_entry_expires_and_an_expiry_must_be_in_the_future(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    past = await client.post(DNC, json={"number": "+12025550101", "expires_at": "2020-01-01T00:00:00Z"})
    assert field_of(past) == ["expires_at"]
    future = await add(client, number="+12025550102", expires_at="2099-01-01T00:00:00+01:00")
    assert future["expires_at"] == "2098-12-31T23:00:00Z"
    async with transaction(sessions) as session:
        yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        await do_not_call.add(session, "+12025550103", expires_at=yesterday)

    assert (await check(client, "+12025550102"))["blocked"] is True
    assert (await check(client, "+12025550103"))["blocked"] is False
    listed = {e["number"] for e in (await client.get(DNC)).json()["items"]}
    assert listed == {"+12025550102", "+12025550103"}  # the expired entry is still shown


async def test_the_list_pages_newest_first_and_filters(client: httpx.AsyncClient) -> None:
    ids = [(await add(client, number=f"+1202555010{n}"))["id"] for n in range(5)]
    prefix = await add(client, number="+1312", match="prefix")

    first = (await client.get(DNC, params={"limit": 4})).json()
    second = (await client.get(DNC, params={"limit": 4, "cursor": first["next_cursor"]})).json()
    prefixes = (await client.get(DNC, params={"match": "prefix"})).json()["items"]
    starting = (await client.get(DNC, params={"number": "+120255501"})).json()["items"]

    assert [e["id"] for e in first["items"]] == [prefix["id"], ids[4], ids[3], ids[2]]
    assert [e["id"] for e in second["items"]] == [ids[1], ids[0]] and second["next_cursor"] is None
    assert [e["id"] for e in prefixes] == [prefix["id"]]
    assert len(starting) == 5
    assert field_of(await client.get(DNC, params={"cursor": "not-ours"})) == ["query.cursor"]
    assert field_of(await client.get(DNC, params={"number": "1202"})) == ["query.number"]
    assert (await client.get(f"{DNC}/{2**63}")).status_code == 422
    assert (await client.get(f"{DNC}/12345")).json()["code"] == "do_not_call_entry_not_found"


async def test_reading_needs_do_not_call_read_and_changing_do_not_call_write(
    client: httpx.AsyncClient,
) -> None:
    entry = await add(client, number="+12025550101")
    client.auth = SignedPrincipal(principal({"do_not_call:read"}))
    assert (await client.get(DNC)).status_code == 200
    assert (await client.get(f"{DNC}/check", params={"number": "+12025550101"})).status_code == 200
    for denied in (
        await client.post(DNC, json={"number": "+12025550102"}),
        await client.delete(f"{DNC}/{entry['id']}"),
        await client.post(f"{DNC}/import", content=b"number\n", headers=CSV),
    ):
        assert denied.status_code == 403 and denied.json()["code"] == "insufficient_scope"
    client.auth = SignedPrincipal(principal({"calls:read"}))
    assert (await client.get(DNC)).status_code == 403
    assert (await client.get(f"{DNC}/export")).status_code == 403
    client.auth = SignedPrincipal(principal({"admin"}))
    assert (await client.delete(f"{DNC}/{entry['id']}")).status_code == 204
