"""Calendars from configuration: the discriminated union of providers and link providers, validation, and
calendars built by :func:`build_calendars` that work against Radicale and the fake Google and Zoom."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from pydantic import TypeAdapter, ValidationError

from ai_agent.calendar import Attendee, BuiltinCalendar
from ai_agent.calendar import testing as calendar_testing
from ai_agent.calendar.caldav import CaldavCalendar
from ai_agent.calendar.google import GoogleCalendar, event_id
from ai_agent.calendar.registry import (
    BuiltinCalendarConfig,
    CaldavCalendarConfig,
    CalendarConfig,
    GoogleCalendarConfig,
    build_calendars,
    close_calendars,
    default_calendars,
)
from ai_agent.calendar.testing import FakeGoogle, FakeZoom, RadicaleServer
from dialplane.db import SessionFactory

radicale = calendar_testing.radicale  # the session's Radicale server (a fixture)

CONFIGS = TypeAdapter(list[CalendarConfig])
ANNA = Attendee("Anna Test", "anna@example.com")
START = dt.datetime(2026, 6, 16, 10, tzinfo=ZoneInfo("Europe/Berlin"))
RULES: dict[str, Any] = {"time_zone": "Europe/Berlin", "working_hours": {"tue": ["08:00-20:00"]}}


def google_config(**overrides: Any) -> dict[str, Any]:
    return {
        "provider": "google",
        "client_id": "id",
        "client_secret": "s3cret",
        "refresh_token": "r3fresh",
    } | (overrides)


def test_the_default_is_one_builtin_calendar(sessions: SessionFactory) -> None:
    calendars = build_calendars(default_calendars(), sessions)
    assert list(calendars) == ["default"] and type(calendars["default"]) is BuiltinCalendar
    assert calendars["default"].time_zone == "UTC"


def test_providers_from_plain_values() -> None:
    configs = CONFIGS.validate_python(
        [
            {"name": "front-desk"},  # no provider: built-in
            {"name": "sales", "provider": "caldav", "url": "https://dav.example.com/anna/sales/"},
            google_config(name="support", links={"provider": "google_meet"}),
        ]
    )
    assert [type(c) for c in configs] == [BuiltinCalendarConfig, CaldavCalendarConfig, GoogleCalendarConfig]
    assert isinstance(configs[2], GoogleCalendarConfig)
    assert configs[2].calendar_id == "primary" and configs[2].send_updates == "none"
    from_json = CONFIGS.validate_json('[{"name": "x", "provider": "builtin", "slot_length": "PT15M"}]')
    assert from_json[0].slot_length == dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    "config",
    [
        {"provider": "outlook"},
        {"provider": "caldav", "url": "ftp://dav.example.com/"},
        {"provider": "caldav", "url": "https://dav.example.com/", "links": {"provider": "google_meet"}},
        {"provider": "builtin", "pasword": "typo"},
        {"provider": "builtin", "links": {"provider": "zoom", "account_id": "a"}},
        google_config(client_secret=None),
    ],
)
def test_invalid_configs(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CONFIGS.validate_python([config])


def test_secrets_stay_hidden() -> None:
    [config] = CONFIGS.validate_python(
        [
            google_config(
                links={"provider": "zoom", "account_id": "a", "client_id": "c", "client_secret": "z00m"}
            )
        ]
    )
    shown = f"{config!r} {config} {config.model_dump_json()}"
    assert not [secret for secret in ("s3cret", "r3fresh", "z00m") if secret in shown]


def test_names_must_be_unique(sessions: SessionFactory) -> None:
    configs = CONFIGS.validate_python([{"name": "sales"}, {"name": "support"}, {"name": "sales"}])
    with pytest.raises(ValueError, match="'sales'"):
        build_calendars(configs, sessions)


@pytest.fixture
async def zoom() -> AsyncIterator[FakeZoom]:
    async with calendar_testing.serving_fake_zoom() as fake:
        yield fake


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogle]:
    async with calendar_testing.serving_fake_google() as fake:
        yield fake


async def test_built_calendars_book(
    sessions: SessionFactory, clock: Any, radicale: RadicaleServer, zoom: FakeZoom, google: FakeGoogle
) -> None:
    collection = await radicale.new_calendar()
    zoom_links = {
        "provider": "zoom", "account_id": zoom.account_id, "client_id": zoom.client_id,
        "client_secret": zoom.client_secret, "oauth_url": zoom.oauth_url, "api_url": zoom.api_url,
    }  # fmt: skip
    sales = {
        "name": "sales", "provider": "caldav", "url": collection, "username": radicale.username,
        "password": radicale.password, "links": zoom_links, **RULES,
    }  # fmt: skip
    support = google_config(
        name="support", calendar_id=google.calendar_id, client_id=google.client_id,
        client_secret=google.client_secret, refresh_token=google.refresh_token, token_url=google.token_url,
        api_url=google.api_url, links={"provider": "google_meet"}, **RULES,
    )  # fmt: skip
    configs = CONFIGS.validate_python(
        [{"name": "front-desk", "link_template": None, **RULES}, sales, support]
    )
    calendars = build_calendars(configs, sessions, clock=clock)
    try:
        assert isinstance(calendars["sales"], CaldavCalendar)
        assert isinstance(calendars["support"], GoogleCalendar)
        booked = {name: await c.book(START, attendee=ANNA, title="Demo") for name, c in calendars.items()}
    finally:
        await close_calendars(calendars)
    assert booked["front-desk"].link is None
    assert booked["sales"].link == zoom.meetings[0]["join_url"]
    document = await radicale.get_event(collection, booked["sales"].id)
    assert document is not None
    assert icalendar.Calendar.from_ical(document).events[0].location == booked["sales"].link
    assert booked["support"].link == google.events[event_id(booked["support"].id)]["hangoutLink"]
