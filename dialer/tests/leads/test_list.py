"""Listing leads: newest first, filtered, a page at a time with an opaque cursor."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from dialer.testing import add_campaign
from dialplane.db import SessionFactory

from .conftest import LEADS, create, join_campaign, set_columns


async def phones(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(LEADS, params=params)
    assert response.status_code == 200, response.text
    return [lead["phone"] for lead in response.json()["items"]]


async def test_leads_are_listed_newest_first_a_page_at_a_time(client: httpx.AsyncClient) -> None:
    created = [(await create(client, f"+1202555010{i}"))["phone"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(LEADS, params=params)).json()
        seen += [lead["phone"] for lead in page["items"]]
        cursor = page["next_cursor"]
    assert seen == created[::-1] and cursor is None


async def test_each_filter_narrows_the_list(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    jane = await create(
        client, "+12025550100", name="Jane Doe", language="en-US", consent=True, partner="acme"
    )
    john = await create(client, "+12025550101", name="John", email="j.smith@Example.org", language="de")
    ann = await create(client, "+12025550102", name="Ann", partner="acme")
    await set_columns(sessions, john["id"], status="no_answer")
    await set_columns(sessions, ann["id"], status="callback")
    campaign_id = await add_campaign(sessions)
    await join_campaign(sessions, campaign_id, jane["id"], ann["id"])

    assert await phones(client, status=["no_answer", "callback"]) == [ann["phone"], john["phone"]]
    assert await phones(client, partner="acme") == [ann["phone"], jane["phone"]]
    assert await phones(client, language="EN-us") == [jane["phone"]]
    assert await phones(client, consent="true") == [jane["phone"]]
    assert await phones(client, consent="false") == [ann["phone"], john["phone"]]
    assert await phones(client, phone="+1 (202) 555-0101") == [john["phone"]]
    assert await phones(client, q="DOE") == [jane["phone"]]
    assert await phones(client, q="smith@example") == [john["phone"]]
    assert await phones(client, campaign_id=str(campaign_id)) == [ann["phone"], jane["phone"]]
    assert await phones(client, partner="acme", status="pending") == [jane["phone"]]


async def test_q_matches_its_text_literally(client: httpx.AsyncClient) -> None:
    await create(client, "+12025550100", name="100% Solar")
    await create(client, "+12025550101", name="1000 Solar")
    assert await phones(client, q="0%") == ["+12025550100"]
    assert await phones(client, q="_") == []


async def test_created_after_and_before_bound_the_creation_time(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    day = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    for offset in range(3):
        lead = await create(client, f"+1202555010{offset}")
        await set_columns(sessions, lead["id"], created_at=day + dt.timedelta(days=offset))
    window = {"created_after": "2026-03-10T12:00:00Z", "created_before": "2026-03-12T00:00:00"}
    assert await phones(client, **window) == ["+12025550101"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),  # base64 of []
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"status": "asleep"}, "status"),
        ({"consent": "maybe"}, "consent"),
        ({"phone": "+1 202 000 0000"}, "phone"),
        ({"phone": "not a phone"}, "phone"),
        ({"campaign_id": "42"}, "campaign_id"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"q": ""}, "q"),
    ],
)
async def test_a_bad_query_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get(LEADS, params=params)
    assert response.status_code == 422, response.text
    named = [error["field"].removeprefix("query.").split(".")[0] for error in response.json()["errors"]]
    assert named == [field]
