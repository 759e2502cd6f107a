"""Calling hours as pure functions: which zones count, and the window in each of them."""

from __future__ import annotations

import datetime as dt

from dialer.policy import calling_hours
from dialer.policy.calling_hours import Window, Zones

WINDOW = Window(dt.time(8), dt.time(21))
NOON_UTC = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)


def test_the_lead_zone_wins_then_the_number_then_the_country() -> None:
    assert calling_hours.zones_for("+12125550123", "Europe/Paris") == Zones(("Europe/Paris",), "lead")
    assert calling_hours.zones_for("+12125550123", None) == Zones(("America/New_York",), "number")


def test_an_unknown_zone_is_refused() -> None:
    reason = calling_hours.outside_window(NOON_UTC, Zones((), "country"), WINDOW)
    assert reason is not None and "unknown" in reason


def test_every_zone_must_be_inside_the_window() -> None:
    paris_and_new_york = Zones(("Europe/Paris", "America/New_York"), "number")  # 13:00 and 07:00
    reason = calling_hours.outside_window(NOON_UTC, paris_and_new_york, WINDOW)
    assert reason is not None and "America/New_York" in reason and "07:00" in reason
    assert calling_hours.outside_window(NOON_UTC, Zones(("Europe/Paris",), "lead"), WINDOW) is None


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    assert WINDOW.holds(dt.time(8)) and WINDOW.holds(dt.time(20, 59, 59))
    assert not WINDOW.holds(dt.time(21)) and not WINDOW.holds(dt.time(7, 59))


def test_exempt_prefixes() -> None:
    assert calling_hours.is_exempt("+12025550100", ["+120255501"])
    assert not calling_hours.is_exempt("+12025550200", ["+120255501"])
    assert not calling_hours.is_exempt("+12025550100", [])
