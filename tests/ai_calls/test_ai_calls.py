"""Whole AI calls over real Asterisk with the test carrier's people, offline: the agent hears them through
Silero VAD and Whisper, answers with the dialogue policy and espeak-ng, and acts through its tools — a
meeting in PostgreSQL and on Radicale, an opt-out on the do-not-call list, a call back, a voicemail."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from e2e import FINAL, LEAD_ZONE, Stack

from ai_agent.audio import read_wav
from ai_agent.audio.lines import LOUD, first_loud, first_quiet, last_loud, loudness
from ai_agent.calendar.testing import RadicaleServer
from dialplane.testing.asterisk import AsteriskInfo

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(240)]

SCOPES = ["calls:read", "calls:write", "meetings:read"]
JANE = {"name": "Jane Doe", "email": "jane.doe@example.com", "timezone": LEAD_ZONE}


async def place(stack: Stack, auth: dict[str, str], to: str, **extra: Any) -> str:
    body = {"to": to, "agent": {"lead": JANE}, **extra}
    created = await stack.gateway.post("/api/v1/calls", headers=auth, json=body)
    assert created.status_code == 201, created.text
    call_id: str = created.json()["id"]
    return call_id


async def ended_call(stack: Stack, auth: dict[str, str], call_id: str) -> dict[str, Any]:
    """The call once it has ended and the agent's outcome has reached it."""
    await stack.wait_for_status(auth, call_id, *FINAL, within=180)
    async with asyncio.timeout(10):
        while True:
            call: dict[str, Any] = (await stack.gateway.get(f"/api/v1/calls/{call_id}", headers=auth)).json()
            if call["outcome"] is not None:
                return call
            await asyncio.sleep(0.2)


async def transcript(stack: Stack, auth: dict[str, str], call_id: str) -> list[dict[str, Any]]:
    answer = await stack.gateway.get(f"/api/v1/calls/{call_id}/transcript", headers=auth)
    assert answer.status_code == 200, answer.text
    turns: list[dict[str, Any]] = answer.json()["turns"]
    return turns


def said(turns: list[dict[str, Any]], speaker: str) -> str:
    return " ".join(turn["text"] for turn in turns if turn["speaker"] == speaker).lower()


def tomorrow_at(hour: int) -> dt.datetime:
    zone = ZoneInfo(LEAD_ZONE)
    day = dt.datetime.now(zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)


async def test_a_person_who_wants_a_meeting_gets_one_tomorrow_at_ten(
    ai_stack: Stack, radicale: RadicaleServer
) -> None:
    auth = await ai_stack.token("meeting", SCOPES)
    call_id = await place(ai_stack, auth, "+12025550110")
    call = await ended_call(ai_stack, auth, call_id)
    turns = await transcript(ai_stack, auth, call_id)
    assert call["outcome"] == "meeting_booked", [(turn["speaker"], turn["text"]) for turn in turns]
    assert call["summary"] and "meeting booked" in call["summary"].lower()

    meetings = (
        await ai_stack.gateway.get("/api/v1/meetings", params={"call_id": call_id}, headers=auth)
    ).json()
    [meeting] = meetings["items"]
    assert dt.datetime.fromisoformat(meeting["start"]) == tomorrow_at(10), said(turns, "person")
    assert meeting["attendee"]["email"] == "jane.doe@example.com"
    assert meeting["status"] == "scheduled"
    event = await radicale.get_event(radicale.calendar_url, meeting["id"])
    assert event is not None and "jane.doe@example.com" in event.lower()

    assert "automated assistant" in said(turns, "agent")  # it says what it is, and how to opt out
    recording = await ai_stack.gateway.get(f"/api/v1/calls/{call_id}/recording", headers=auth)
    assert recording.status_code == 200 and recording.headers["content-type"] == "audio/wav"
    pcm, rate = read_wav(recording.content)
    assert rate == 16000 and len(pcm) / (2 * rate) > 20  # both sides of a conversation of half a minute
    assert "interesting" in said(turns, "person")


async def test_three_people_called_at_once_opt_out_in_words_opt_out_with_a_key_and_ask_for_a_call_back(
    ai_stack: Stack,
) -> None:
    """Three conversations at the same time (as a campaign has them), each checked on its own."""
    auth = await ai_stack.token("people", SCOPES)
    checks = {
        "+12025550111": is_opted_out_and_never_called_again,
        "+12025550114": is_opted_out_at_once_by_pressing_nine,
        "+12025550112": gets_a_call_back_tomorrow_afternoon,
    }
    placed = {number: await place(ai_stack, auth, number) for number in checks}
    await asyncio.gather(*(check(ai_stack, auth, placed[number]) for number, check in checks.items()))


async def is_opted_out_and_never_called_again(ai_stack: Stack, auth: dict[str, str], call_id: str) -> None:
    call = await ended_call(ai_stack, auth, call_id)
    assert call["outcome"] == "opted_out", await transcript(ai_stack, auth, call_id)

    again = await ai_stack.gateway.post("/api/v1/calls", headers=auth, json={"to": "+12025550111"})
    assert again.status_code == 422, again.text
    assert again.json()["rule"] == "do_not_call"


async def is_opted_out_at_once_by_pressing_nine(ai_stack: Stack, auth: dict[str, str], call_id: str) -> None:
    call = await ended_call(ai_stack, auth, call_id)
    turns = await transcript(ai_stack, auth, call_id)
    assert call["outcome"] == "opted_out", turns
    assert "[pressed 9]" in said(turns, "person") and "not be called again" in said(turns, "agent")
    again = await ai_stack.gateway.post("/api/v1/calls", headers=auth, json={"to": "+12025550114"})
    assert again.status_code == 422, again.text


async def gets_a_call_back_tomorrow_afternoon(ai_stack: Stack, auth: dict[str, str], call_id: str) -> None:
    call = await ended_call(ai_stack, auth, call_id)
    assert call["outcome"] == "callback_requested", await transcript(ai_stack, auth, call_id)

    conversation = (await ai_stack.gateway.get(f"/api/v1/calls/{call_id}/conversation", headers=auth)).json()
    callback_at = dt.datetime.fromisoformat(conversation["callback_at"])
    assert callback_at == tomorrow_at(14)  # "tomorrow afternoon": 2 pm in the lead's zone


async def test_an_answering_machine_gets_the_message_after_the_beep(
    ai_stack: Stack, asterisk: AsteriskInfo
) -> None:
    """Measured on the machine's line: what it played (greeting, beep) and what it heard (the message)."""
    auth = await ai_stack.token("voicemail", SCOPES)
    async with ari_client(asterisk) as ari:
        call_id, (sent, heard) = await call_recorded(
            ari, ai_stack, auth, "+12025550105", machine_detection=True
        )
    call = await ended_call(ai_stack, auth, call_id)
    assert (call["answered_by"], call["outcome"]) == ("machine", "voicemail")

    beep_ends = last_loud(sent)  # the beep is the machine's last sound
    message_starts = first_loud(heard)
    print(f"voicemail: the message started {(message_starts - beep_ends) * 10} ms after the beep ended")
    assert message_starts > beep_ends
    [message] = [turn for turn in await transcript(ai_stack, auth, call_id) if turn["speaker"] == "agent"]
    assert "automated assistant" in message["text"]


def ari_client(asterisk: AsteriskInfo) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=asterisk.ari_url, auth=(asterisk.username, asterisk.password))


async def call_recorded(
    ari: httpx.AsyncClient, stack: Stack, auth: dict[str, str], to: str, **extra: Any
) -> tuple[str, tuple[list[float], list[float]]]:
    """Place a call to a test-carrier line that records itself; when it has ended: the call id and the
    loudness of what the line sent and what it heard."""
    before = {r["name"] for r in (await ari.get("/recordings/stored")).json()}
    call_id = await place(stack, auth, to, **extra)
    await stack.wait_for_status(auth, call_id, *FINAL, within=180)
    after = {r["name"] for r in (await ari.get("/recordings/stored")).json()}
    [take] = {name.removesuffix("-heard") for name in after - before if name.endswith("-heard")}
    recordings = []
    for part in ("said", "heard"):
        answer = await ari.get(f"/recordings/stored/{take}-{part}/file")
        assert answer.status_code == 200, answer.text
        recordings.append(loudness(answer.content))
    return call_id, (recordings[0], recordings[1])


async def test_the_agent_stops_talking_within_300_ms_when_the_person_talks_over_it(
    ai_stack: Stack, asterisk: AsteriskInfo
) -> None:
    """Measured on the audio the person's line sent and received (recorded by Asterisk on that line)."""
    auth = await ai_stack.token("barge-in", SCOPES)
    async with ari_client(asterisk) as ari:
        call_id, (sent, heard) = await call_recorded(ari, ai_stack, auth, "+12025550113")
    person_starts = first_loud(sent)
    assert max(heard[person_starts - 50 : person_starts]) > LOUD, "the agent was not speaking"
    agent_stops = first_quiet(heard, person_starts)
    stop_ms = (agent_stops - person_starts) * 10
    print(f"barge-in: the agent's audio stopped {stop_ms} ms after the person started speaking")
    assert stop_ms <= 300

    await ended_call(ai_stack, auth, call_id)
    conversation = (await ai_stack.gateway.get(f"/api/v1/calls/{call_id}/conversation", headers=auth)).json()
    opening = next(turn for turn in conversation["turns"] if turn["speaker"] == "agent")
    assert opening["interrupted"] is True
    assert "calling" in said(await transcript(ai_stack, auth, call_id), "person")


async def test_a_person_who_asks_for_a_human_is_transferred_and_the_agent_leaves(
    ai_stack: Stack, asterisk: AsteriskInfo
) -> None:
    auth = await ai_stack.token("transfer", [*SCOPES, "agents:write"])
    profile = {"transfer_destination": "+12025550104"}  # a test-carrier line that answers and stays
    changed = await ai_stack.gateway.patch("/api/v1/agent-profiles/default", headers=auth, json=profile)
    assert changed.status_code == 200, changed.text
    call_id = await place(ai_stack, auth, "+12025550115")
    async with ari_client(asterisk) as ari, asyncio.timeout(90):
        while (await ari.get(f"/channels/transfer-{call_id}")).json().get("state") != "Up":
            await asyncio.sleep(0.5)
        while (await ari.get(f"/channels/media-{call_id}")).status_code != 404:  # the agent has left
            await asyncio.sleep(0.2)
        members = (await ari.get(f"/bridges/{call_id}")).json()["channels"]
    assert sorted(members) == sorted([call_id, f"transfer-{call_id}"])  # the person and the human

    await asyncio.sleep(1.0)
    still = (await ai_stack.gateway.get(f"/api/v1/calls/{call_id}", headers=auth)).json()
    assert still["status"] == "answered"  # the call goes on without the agent
    hung_up = await ai_stack.gateway.post(f"/api/v1/calls/{call_id}/hangup", headers=auth)
    assert hung_up.status_code == 202, hung_up.text
    call = await ended_call(ai_stack, auth, call_id)
    assert (call["status"], call["outcome"]) == ("completed", "transferred")
