"""The calls API: create (the originate command and the call.queued event in the same transaction), read,
list with filters and cursor pagination, hang up, the timeline; and every bad input answered 4xx."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from dialer.testing import bridge_commands, call_events, consumer_caught_up, publish_bridge_event
from dialplane.calls import AGENT_QUEUE, CallStatus
from dialplane.db import SessionFactory
from dialplane.events import PostgresEventStream

CALLS = "/api/v1/calls"
DEFAULT_CALLER_ID = "+12025550199"  # set by the conftest's settings


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(CALLS, json={"to": "+12025550100", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_an_agent_call_is_queued_with_its_originate_command_and_event(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    body = {
        "to": "+1 (202) 555-0100",
        "agent": {
            "profile": "sales",
            "lead": {"name": "Jane Doe", "email": "jane@example.com", "timezone": "America/New_York"},
            "variables": {"product": "solar panels"},
        },
        "timeout": 25,
        "max_duration": 300,
        "machine_detection": True,
        "metadata": {"crm_id": 42, "tags": ["a", "b"]},
    }
    response = await client.post(CALLS, json=body)

    assert response.status_code == 201, response.text
    call = response.json()
    call_id = call["id"]
    assert uuid.UUID(call_id).version == 4
    assert response.headers["location"] == f"{CALLS}/{call_id}"
    assert call["status"] == "queued" and call["to"] == "+12025550100" and call["from"] == DEFAULT_CALLER_ID
    assert call["mode"] == "agent" and call["agent"]["profile"] == "sales" and call["ivr"] is None
    assert call["agent"]["lead"]["timezone"] == "America/New_York"
    assert (call["timeout"], call["max_duration"], call["machine_detection"]) == (25, 300, True)
    assert call["metadata"] == {"crm_id": 42, "tags": ["a", "b"]}
    assert call["attempt_number"] == 1 and not call["is_active"] and not call["is_completed"]
    assert call["outcome"] is None and call["transcript_url"] is None
    assert await bridge_commands(sessions, call_id) == [
        (
            "call.originate",
            {
                "call_id": call_id,
                "to": "+12025550100",
                "caller_id": DEFAULT_CALLER_ID,
                "ring_timeout_seconds": 25,
                "max_duration_seconds": 300,
                "machine_detection": True,
                "variables": {"DIALPLANE_MODE": "agent", "DIALPLANE_AGENT_PROFILE": "sales"},
            },
        )
    ]
    # the agents hear of the call at once (they record its pending conversation before it is answered)
    assert await bridge_commands(sessions, call_id, AGENT_QUEUE) == [
        ("agent.prepare", {"id": call_id, "to": "+12025550100", "mode": "agent", "agent": call["agent"]})
    ]
    [(event_type, data)] = await call_events(sessions, call_id)
    assert event_type == "call.queued"
    assert data["call_id"] == call_id and data["status"] == "queued" and data["previous_status"] is None
    assert data["call"] == call


async def test_an_ivr_call_sends_the_dialplan_place_and_its_own_caller_id(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    ivr = {"context": "dialplane-ivr-demo", "extension": "s", "priority": 2}
    call = await create(client, ivr=ivr, **{"from": "+1 202 555 0198"})
    assert await bridge_commands(sessions, call["id"], AGENT_QUEUE) == []  # no agent to prepare

    assert call["mode"] == "ivr" and call["ivr"] == ivr and call["agent"] is None
    [(command, data)] = await bridge_commands(sessions, call["id"])
    assert command == "call.originate"
    assert data["dialplan"] == ivr and data["caller_id"] == "+12025550198"
    assert data["variables"] == {"DIALPLANE_MODE": "ivr"}
    assert data["ring_timeout_seconds"] == 30  # the default


async def test_neither_agent_nor_ivr_is_an_agent_call_with_the_default_profile(
    client: httpx.AsyncClient,
) -> None:
    call = await create(client)
    assert call["mode"] == "agent"
    assert call["agent"] == {"profile": "default", "lead": None, "variables": {}}


@pytest.mark.parametrize("number", [f"+1202555010{last}" for last in range(6)] + ["+1 202-555-0110"])
async def test_the_test_carrier_numbers_are_accepted(client: httpx.AsyncClient, number: str) -> None:
    call = await create(client, to=number)
    assert call["to"] == number.replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    "number",
    [
        "+1202555010a",  # letters
        "+1-800-FLOWERS",  # vanity letters
        "+12025550100123456",  # too many digits
        "+120255501001",  # one digit too many for the NANP
        "+1202555",  # too short for its country
        "+15555550100",  # not a valid number of the plan
        "+9991234567",  # no such country code
        "12025550100",  # no country code
        "",
        12025550100,
    ],
)
async def test_malformed_numbers_are_refused_naming_to(client: httpx.AsyncClient, number: object) -> None:
    response = await client.post(CALLS, json={"to": number})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["to"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agent": {}, "ivr": {"context": "c", "extension": "s"}}, "ivr"),
        ({"agent": {"lead": {"timezone": "Mars/Olympus_Mons"}}}, "agent.lead.timezone"),
        ({"agent": {"lead": {"timezone": "America"}}}, "agent.lead.timezone"),
        ({"agent": {"lead": {"timezone": "../etc/passwd"}}}, "agent.lead.timezone"),
        ({"agent": {"lead": {"email": "not an email"}}}, "agent.lead.email"),
        ({"agent": {"profile": "../x"}}, "agent.profile"),
        ({"agent": {"variables": {"ok": 1}}}, "agent.variables.ok"),
        ({"ivr": {"context": "c"}}, "ivr.extension"),
        ({"ivr": {"context": "bad context", "extension": "s"}}, "ivr.context"),
        ({"timeout": 10}, "timeout"),
        ({"timeout": 601}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"max_duration": 0}, "max_duration"),
        ({"machine_detection": "maybe"}, "machine_detection"),
        ({"status_callback": "ftp://example.com/hook"}, "status_callback"),
        ({"status_callback": "not a url"}, "status_callback"),
        (
            {"status_callback": "https://example.com/h", "status_callback_events": ["exploded"]},
            "status_callback_events.0",
        ),
        ({"status_callback_events": ["completed"]}, "status_callback_events"),
        ({"metadata": {"blob": "x" * 20_000}}, "metadata"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"from": "caller"}, "from"),
        ({"from": "+1202"}, "from"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_bad_bodies_are_refused_naming_the_field(
    client: httpx.AsyncClient, sessions: SessionFactory, body: dict[str, Any], field: str
) -> None:
    response = await client.post(CALLS, json={"to": "+12025550100", **body})
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'"text"', b""])
async def test_unparsable_bodies_are_422(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post(CALLS, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text


async def test_a_status_callback_gets_all_statuses_by_default_or_the_chosen_ones(
    client: httpx.AsyncClient,
) -> None:
    every = await create(client, status_callback="https://example.com/hook")
    chosen = await create(
        client, status_callback="https://example.com/hook", status_callback_events=["answered", "completed"]
    )
    assert every["status_callback"] == "https://example.com/hook"
    assert every["status_callback_events"] == [status.value for status in CallStatus]
    assert chosen["status_callback_events"] == ["answered", "completed"]


async def test_get_a_call_an_unknown_one_and_a_malformed_id(client: httpx.AsyncClient) -> None:
    call = await create(client)

    found = await client.get(f"{CALLS}/{call['id']}")
    unknown = await client.get(f"{CALLS}/{uuid.uuid4()}")
    malformed = await client.get(f"{CALLS}/not-a-uuid")

    assert found.status_code == 200 and found.json() == call
    assert unknown.status_code == 404 and unknown.json()["code"] == "call_not_found"
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "path.id"


async def test_list_filters_by_status_number_and_creation_time(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    first = await create(client, to="+12025550100")
    second = await create(client, to="+12025550101")
    third = await create(client, to="+12025550101")
    await publish_bridge_event(sessions, event_stream, second["id"], CallStatus.DIALING, CallStatus.QUEUED)
    await consumer_caught_up(sessions)

    async def ids(**params: Any) -> list[str]:
        response = await client.get(CALLS, params=params)
        assert response.status_code == 200, response.text
        return [call["id"] for call in response.json()["items"]]

    assert await ids() == [third["id"], second["id"], first["id"]]
    assert await ids(status="dialing") == [second["id"]]
    assert await ids(status=["queued", "dialing"]) == [third["id"], second["id"], first["id"]]
    assert await ids(to="+1 202 555 0101") == [third["id"], second["id"]]
    assert await ids(created_after=first["created_at"]) == [third["id"], second["id"]]
    assert await ids(created_before=third["created_at"]) == [second["id"], first["id"]]
    assert await ids(created_after=first["created_at"], created_before=third["created_at"]) == [second["id"]]


async def test_list_pages_newest_first_with_a_cursor(client: httpx.AsyncClient) -> None:
    created = [(await create(client))["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    for expected_size in (2, 2, 1):
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(CALLS, params=params)).json()
        assert len(page["items"]) == expected_size
        seen += [call["id"] for call in page["items"]]
        cursor = page["next_cursor"]
    assert cursor is None
    assert seen == list(reversed(created))


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage"},
        {"cursor": "W10"},  # base64 of []
        {"cursor": "WyJub3QgYSB0aW1lIiwieCJd"},  # ["not a time","x"]
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"status": "exploded"},
        {"to": "+1202555010a"},
        {"to": "+15555550100"},
        {"created_after": "yesterday"},
    ],
)
async def test_bad_list_queries_are_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get(CALLS, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


async def test_hangup_sends_the_command_and_a_finished_call_is_409(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    call = await create(client)
    hangup = await client.post(f"{CALLS}/{call['id']}/hangup")

    assert hangup.status_code == 202, hangup.text
    assert hangup.json()["id"] == call["id"]
    assert [command for command, _ in await bridge_commands(sessions, call["id"])] == [
        "call.originate",
        "call.hangup",
    ]
    assert (await bridge_commands(sessions, call["id"]))[1][1] == {"call_id": call["id"]}

    await publish_bridge_event(
        sessions, event_stream, call["id"], CallStatus.CANCELED, CallStatus.QUEUED, failure_reason="hung up"
    )
    await consumer_caught_up(sessions)
    again = await client.post(f"{CALLS}/{call['id']}/hangup")
    assert again.status_code == 409 and again.json()["code"] == "call_ended"
    assert len(await bridge_commands(sessions, call["id"])) == 2
    assert (await client.post(f"{CALLS}/{uuid.uuid4()}/hangup")).status_code == 404
    assert (await client.post(f"{CALLS}/123/hangup")).status_code == 422


async def test_the_timeline_lists_status_changes_oldest_first(
    client: httpx.AsyncClient, sessions: SessionFactory, event_stream: PostgresEventStream
) -> None:
    call = await create(client)
    await publish_bridge_event(sessions, event_stream, call["id"], CallStatus.DIALING, CallStatus.QUEUED)
    await publish_bridge_event(
        sessions, event_stream, call["id"], CallStatus.BUSY, CallStatus.DIALING, hangup_cause=17, sip_code=486
    )
    await consumer_caught_up(sessions)

    response = await client.get(f"{CALLS}/{call['id']}/events")

    assert response.status_code == 200, response.text
    timeline = response.json()
    assert timeline["call_id"] == call["id"]
    assert [entry["status"] for entry in timeline["items"]] == ["queued", "dialing", "busy"]
    assert timeline["items"][2]["details"]["sip_code"] == 486
    assert timeline["items"][2]["details"]["previous_status"] == "dialing"
    assert (await client.get(f"{CALLS}/{uuid.uuid4()}/events")).status_code == 404
    assert (await client.get(f"{CALLS}/nope/events")).status_code == 422


@pytest.mark.parametrize(
    "content",
    [
        b'{"to": "+12025550100", "metadata": {"x": NaN}}',
        b'{"to": "+12025550100", "metadata": {"x": [1, -Infinity]}}',
        b'{"to": "+12025550100", "metadata": {"x": "a\\u0000b"}}',
        b'{"to": "+12025550100", "metadata": {"a\\u0000": 1}}',
        b'{"to": "+12025550100", "metadata": {"x": "\\ud800"}}',
        b'{"to": "+12025550100", "agent": {"lead": {"name": "a\\u0000"}}}',
        b'{"to": "+12025550100", "agent": {"lead": {"email": "a\\u0000@example.com"}}}',
        b'{"to": "+12025550100", "agent": {"variables": {"x": "a\\u0000"}}}',
    ],
)
async def test_values_the_database_cannot_store_are_422(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post(CALLS, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text


async def test_deeply_nested_json_is_refused_without_a_500(client: httpx.AsyncClient) -> None:
    content = b'{"to": "+12025550100", "metadata": ' + b'{"a":' * 5000 + b"1" + b"}" * 5001
    response = await client.post(CALLS, content=content, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text


@pytest.mark.parametrize(
    "params",
    [
        {"created_after": "0001-01-01T00:00:00+01:00"},
        {"created_before": "9999-12-31T23:59:59-05:00"},
        {"created_after": "2026-01-01T00:00:00+99:00"},
        {"to": "+1\x00"},
        {"cursor": "\x00"},
    ],
)
async def test_list_queries_out_of_range_are_422(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get(CALLS, params=params)
    assert response.status_code == 422, response.text


async def test_times_without_an_offset_are_utc(client: httpx.AsyncClient) -> None:
    call = await create(client)
    naive = call["created_at"].removesuffix("Z")
    listed = (await client.get(CALLS, params={"created_before": naive})).json()["items"]
    assert listed == []
    assert (await client.get(CALLS, params={"created_before": "9999-12-31T00:00:00"})).status_code == 200
