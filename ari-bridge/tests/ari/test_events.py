"""Event parsing: real events captured from two calls (answered, busy), and unknown or malformed ones."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from ari_bridge.ari import (
    ChannelDestroyed,
    ChannelHangupRequest,
    ChannelStateChange,
    ChannelVarset,
    Dial,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    decode_event,
    parse_event,
)
from dialplane.testing.asterisk import AriTestClient, AsteriskInfo

pytestmark = pytest.mark.timeout(60)

TIMESTAMP = "2026-01-02T03:04:05.678+0000"
CHANNEL = {
    "id": "c-1",
    "name": "PJSIP/trunk-00000001",
    "state": "Ring",
    "caller": {"name": "", "number": "+1"},
}


@dataclasses.dataclass(frozen=True)
class Captured:
    answered_id: str
    busy_id: str
    events: list[dict[str, Any]]


@pytest_asyncio.fixture(scope="module")
async def captured(asterisk: AsteriskInfo) -> AsyncIterator[Captured]:
    """Every event of a call to +12025550100 (answers, hangs up after 3 s) and +12025550101 (busy)."""
    info = dataclasses.replace(asterisk, app=f"ari-events-{uuid.uuid4().hex[:8]}")
    async with AriTestClient(info) as ari:
        answered_id, busy_id = (f"events-{uuid.uuid4().hex[:12]}" for _ in range(2))
        await ari.originate("Local/+12025550100@test-carrier", answered_id)
        await ari.originate("Local/+12025550101@test-carrier", busy_id)
        await asyncio.gather(
            *(ari.wait_for("ChannelDestroyed", cid, within=15) for cid in (answered_id, busy_id))
        )
        yield Captured(answered_id, busy_id, list(ari.events))


def parsed_about(captured: Captured, channel_id: str) -> list[Any]:
    events = [parse_event(raw) for raw in captured.events]
    return [event for event in events if event.channel_id == channel_id]


def first(events: list[Any], kind: type[Any]) -> Any:
    return next(event for event in events if isinstance(event, kind))


@pytest.mark.asterisk
async def test_real_events_parse_without_loss(captured: Captured) -> None:
    events = [parse_event(raw) for raw in captured.events]
    assert not [event for event in events if isinstance(event, UnknownEvent) and event.malformed]
    for event in events:
        assert event.timestamp is not None and event.timestamp.tzinfo is not None
        assert event.asterisk_id
        assert event.application == captured.events[0]["application"]
    unknown = {event.type for event in events if isinstance(event, UnknownEvent)}
    assert unknown <= {"ChannelDialplan"}


@pytest.mark.asterisk
async def test_answered_call(captured: Captured) -> None:
    events = parsed_about(captured, captured.answered_id)
    kinds = [type(event) for event in events]
    assert (
        kinds.index(Dial) < kinds.index(StasisStart) < kinds.index(StasisEnd) < kinds.index(ChannelDestroyed)
    )
    start: StasisStart = first(events, StasisStart)
    assert start.args == []
    assert start.channel.state == "Up"
    assert start.channel.dialplan is not None and start.channel.dialplan.exten == "+12025550100"
    assert first(events, ChannelStateChange).channel.state == "Up"
    assert [dial.dialstatus for dial in events if isinstance(dial, Dial)] == ["", "ANSWER"]
    destroyed: ChannelDestroyed = first(events, ChannelDestroyed)
    assert (destroyed.cause, destroyed.cause_txt) == (16, "Normal Clearing")
    assert first(events, ChannelHangupRequest).cause == 16
    assert any(isinstance(event, ChannelVarset) and event.variable == "STASISSTATUS" for event in events)


@pytest.mark.asterisk
async def test_busy_call(captured: Captured) -> None:
    events = parsed_about(captured, captured.busy_id)
    assert not any(isinstance(event, StasisStart) for event in events)
    assert [dial.dialstatus for dial in events if isinstance(dial, Dial)] == ["", "BUSY"]
    dial: Dial = first(events, Dial)
    assert dial.peer.id == captured.busy_id
    assert dial.dialstring == "+12025550101@test-carrier"
    destroyed: ChannelDestroyed = first(events, ChannelDestroyed)
    assert (destroyed.cause, destroyed.cause_txt) == (17, "User busy")


def test_extra_fields_are_ignored_and_optional_fields_default() -> None:
    raw = {
        "type": "ChannelDestroyed",
        "timestamp": TIMESTAMP,
        "cause": 19,
        "cause_txt": "No answer",
        "channel": {**CHANNEL, "future_field": 1},
        "new_top_level": True,
    }
    event = parse_event(raw)
    assert isinstance(event, ChannelDestroyed)
    assert event.tech_cause is None
    assert event.channel_id == "c-1"
    assert event.timestamp == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_global_variable_has_no_channel() -> None:
    event = parse_event({"type": "ChannelVarset", "timestamp": TIMESTAMP, "variable": "X", "value": "1"})
    assert isinstance(event, ChannelVarset)
    assert event.channel_id is None


def test_unknown_type_keeps_the_raw_event() -> None:
    raw = {"type": "BridgeCreated", "timestamp": TIMESTAMP, "application": "app", "bridge": {"id": "b"}}
    event = parse_event(raw)
    assert isinstance(event, UnknownEvent)
    assert (event.type, event.application, event.raw, event.malformed) == ("BridgeCreated", "app", raw, False)
    assert event.channel_id is None
    assert parse_event({**raw, "type": "ChannelDialplan", "channel": CHANNEL}).channel_id == "c-1"


def malformed_count(event_type: str) -> float:
    return REGISTRY.get_sample_value("dialplane_ari_events_malformed_total", {"type": event_type}) or 0.0


def test_malformed_known_event_becomes_unknown_and_is_counted() -> None:
    before = malformed_count("Dial")
    raw = {"type": "Dial", "timestamp": "not a time", "peer": {"id": 3}}
    event = parse_event(raw)
    assert isinstance(event, UnknownEvent)
    assert (event.type, event.malformed, event.timestamp) == ("Dial", True, None)
    assert malformed_count("Dial") == before + 1


def test_undecodable_frames_become_malformed_events() -> None:
    before = malformed_count("other")
    for frame in ("{not json", "[1, 2]", '"text"'):
        event = decode_event(frame)
        assert isinstance(event, UnknownEvent)
        assert event.malformed
        assert event.channel_id is None
    assert malformed_count("other") == before + 3
