"""A call's conversation as the API shows it: the turns with their timings, the outcome and the booked
meeting; the transcript as JSON or plain text; the recording's audio unchanged; unknown calls 404."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from ai_agent.calendar import Attendee, BuiltinCalendar
from ai_agent.conversations import repository
from dialplane.db import SessionFactory, transaction

T0 = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)
TIMINGS = {"end_of_speech_to_stt_final_ms": 150.0, "end_of_speech_to_first_audio_ms": 700.5}


async def ended_conversation(
    sessions: SessionFactory, *, meeting_id: str | None = None, recording: bytes | None = None
) -> uuid.UUID:
    """A conversation of three turns that ended with a booked meeting."""
    call_id = uuid.uuid4()
    async with transaction(sessions) as session:
        await repository.create_pending(
            session, call_id=call_id, profile="default", to_number="+12025550100",
            lead={"name": "Jane Doe"}, variables={"product": "solar"},
        )  # fmt: skip
        await repository.start(session, call_id, answered_by="human", language="en-US", started_at=T0)
        for seq, (speaker, text) in enumerate(
            [
                ("agent", "Hello Jane, this is Alex."),
                ("person", "Hi!\nTomorrow at ten works."),
                ("agent", "Booked."),
            ]
        ):
            at = T0 + dt.timedelta(seconds=5 * seq)
            await repository.add_turn(
                session, call_id, speaker=speaker, text=text, started_at=at, ended_at=at, timings=TIMINGS
            )
        await repository.finish(
            session, call_id, outcome="meeting_booked", summary="Booked for tomorrow at ten.",
            end_reason="agent_ended", meeting_id=meeting_id, ended_at=T0 + dt.timedelta(minutes=1),
        )  # fmt: skip
        if recording is not None:
            await repository.save_recording(session, call_id, recording, "audio/wav", 60.0)
    return call_id


async def test_the_conversation_shows_turns_outcome_and_the_booked_meeting(
    client: httpx.AsyncClient, sessions: SessionFactory, calendar: BuiltinCalendar
) -> None:
    meeting = await calendar.book(
        dt.datetime(2026, 6, 16, 8, 0, tzinfo=dt.UTC), attendee=Attendee("Jane Doe", "jane@example.com"),
        title="Introductory call",
    )  # fmt: skip
    call_id = await ended_conversation(sessions, meeting_id=meeting.id)

    response = await client.get(f"/api/v1/calls/{call_id}/conversation")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["call_id"], body["status"], body["outcome"]) == (str(call_id), "ended", "meeting_booked")
    assert body["summary"] == "Booked for tomorrow at ten." and body["answered_by"] == "human"
    assert (
        body["to"] == "+12025550100" and body["lead"] == {"name": "Jane Doe"} and body["language"] == "en-US"
    )
    assert [(t["seq"], t["speaker"]) for t in body["turns"]] == [(1, "agent"), (2, "person"), (3, "agent")]
    assert body["turns"][1]["timings"] == TIMINGS
    assert body["meeting"]["id"] == meeting.id and body["meeting"]["status"] == "scheduled"
    assert body["meeting"]["start"] == "2026-06-16T08:00:00Z"
    assert body["meeting"]["attendee"] == {"name": "Jane Doe", "email": "jane@example.com", "phone": None}


async def test_a_conversation_without_a_meeting_shows_none(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    call_id = await ended_conversation(sessions, meeting_id="not-a-meeting-of-ours")
    body = (await client.get(f"/api/v1/calls/{call_id}/conversation")).json()
    assert body["meeting"] is None and body["outcome"] == "meeting_booked"


async def test_the_transcript_is_json_by_default(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    call_id = await ended_conversation(sessions)

    response = await client.get(f"/api/v1/calls/{call_id}/transcript")

    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["call_id"] == str(call_id) and body["status"] == "ended"
    assert body["turns"][0] == {
        "speaker": "agent",
        "text": "Hello Jane, this is Alex.",
        "at": "2026-06-15T09:00:00Z",
    }
    assert len(body["turns"]) == 3


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("?format=text", None),
        ("", "text/plain"),
        ("", "application/json;q=0.5, text/plain"),
        ("?format=text", "application/json"),
    ],
)
async def test_the_transcript_is_text_when_asked(
    client: httpx.AsyncClient, sessions: SessionFactory, query: str, accept: str | None
) -> None:
    call_id = await ended_conversation(sessions)
    headers = {} if accept is None else {"Accept": accept}

    response = await client.get(f"/api/v1/calls/{call_id}/transcript{query}", headers=headers)

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.text == (
        "Agent: Hello Jane, this is Alex.\nPerson: Hi! Tomorrow at ten works.\nAgent: Booked.\n"
    )


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("", "*/*"),
        ("", "text/plain;q=0.4, application/json"),
        ("?format=json", "text/plain"),
        ("", "text/html"),
    ],
)
async def test_json_wins_unless_text_is_preferred(
    client: httpx.AsyncClient, sessions: SessionFactory, query: str, accept: str
) -> None:
    call_id = await ended_conversation(sessions)
    response = await client.get(f"/api/v1/calls/{call_id}/transcript{query}", headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"


async def test_the_recording_is_the_stored_audio(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    audio = b"RIFF" + bytes(range(256)) * 64
    call_id = await ended_conversation(sessions, recording=audio)

    response = await client.get(f"/api/v1/calls/{call_id}/recording")

    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav" and response.content == audio


async def test_unknown_calls_missing_recordings_and_bad_input_are_problems(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    without_recording = await ended_conversation(sessions)
    unknown = uuid.uuid4()

    answers = {
        "conversation": await client.get(f"/api/v1/calls/{unknown}/conversation"),
        "transcript": await client.get(f"/api/v1/calls/{unknown}/transcript"),
        "recording": await client.get(f"/api/v1/calls/{unknown}/recording"),
        "no recording": await client.get(f"/api/v1/calls/{without_recording}/recording"),
        "malformed": await client.get("/api/v1/calls/not-a-uuid/conversation"),
        "format": await client.get(f"/api/v1/calls/{without_recording}/transcript?format=xml"),
    }

    assert {name: r.status_code for name, r in answers.items()} == {
        "conversation": 404, "transcript": 404, "recording": 404, "no recording": 404, "malformed": 422,
        "format": 422,
    }  # fmt: skip
    assert all(r.headers["content-type"] == "application/problem+json" for r in answers.values())
    codes = {name: r.json()["code"] for name, r in answers.items()}
    assert codes["conversation"] == codes["transcript"] == codes["recording"] == "conversation_not_found"
    assert codes["no recording"] == "recording_not_found"
    assert answers["format"].json()["errors"][0]["field"] == "query.format"
