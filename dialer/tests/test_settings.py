"""The dialer's settings: calling-hours window and exempt prefixes from the environment."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from dialer.settings import Settings


def test_defaults() -> None:
    settings = Settings()
    assert (settings.calling_hours_start, settings.calling_hours_end) == (dt.time(8), dt.time(21))
    assert settings.calling_hours_exempt_prefixes == []
    assert settings.min_ring_timeout_seconds == 15 and settings.default_ring_timeout_seconds == 30


@pytest.mark.parametrize("value", ['["+120255501", "+44"]', "+120255501, +44"])
def test_exempt_prefixes_as_json_or_a_comma_list(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DIALER_CALLING_HOURS_EXEMPT_PREFIXES", value)
    assert Settings().calling_hours_exempt_prefixes == ["+120255501", "+44"]


def test_window_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_CALLING_HOURS_START", "09:00")
    monkeypatch.setenv("DIALPLANE_CALLING_HOURS_END", "20:30")
    settings = Settings()
    assert (settings.calling_hours_start, settings.calling_hours_end) == (dt.time(9), dt.time(20, 30))


@pytest.mark.parametrize(
    "values",
    [
        {"calling_hours_exempt_prefixes": ["1202"]},
        {"calling_hours_start": dt.time(21), "calling_hours_end": dt.time(8)},
        {"min_ring_timeout_seconds": 40},
        {"default_caller_id": "not a number"},
    ],
)
def test_bad_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**values)  # type: ignore[arg-type]
