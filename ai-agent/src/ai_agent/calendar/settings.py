"""Configuration of a calendar's booking rules (used by the built-in provider; a CalDAV one can reuse it).

Durations accept a :class:`~datetime.timedelta`, seconds, ``"HH:MM:SS"`` or ISO 8601 (``"PT30M"``); working
hours map weekdays (``mon`` … ``sun``) to windows given as ``"09:00-17:00"`` or ``{"start", "end"}``, local
times in ``time_zone``. A weekday without windows has no slots.
"""

from __future__ import annotations

import datetime as dt
import itertools
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ai_agent.calendar.links import DEFAULT_LINK_TEMPLATE, validate_link_template


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @classmethod
    def of(cls, day: dt.date) -> Weekday:
        return list(cls)[day.weekday()]


class WorkingWindow(BaseModel):
    """Local working time ``[start, end)`` within one day."""

    model_config = ConfigDict(frozen=True)

    start: dt.time
    end: dt.time

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            start, separator, end = value.partition("-")
            if not separator:
                raise ValueError(f"a working window looks like '09:00-17:00', got {value!r}")
            return {"start": start.strip(), "end": end.strip()}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> WorkingWindow:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are local times without an offset")
        if self.end <= self.start:
            raise ValueError(f"a working window must end after it starts: {self}")
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


WorkingHours = dict[Weekday, tuple[WorkingWindow, ...]]


def every_day(window: str) -> WorkingHours:
    """The same window on all seven days, e.g. ``every_day("08:00-20:00")``."""
    return {day: (WorkingWindow.model_validate(window),) for day in Weekday}


def weekdays(window: str) -> WorkingHours:
    """The window Monday to Friday, nothing at the weekend."""
    return {day: (WorkingWindow.model_validate(window),) for day in list(Weekday)[:5]}


class CalendarSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(default="default", min_length=1, max_length=100)
    time_zone: str = Field(default="UTC", description="IANA zone of the working hours")
    working_hours: WorkingHours = Field(default_factory=lambda: weekdays("09:00-17:00"))
    slot_length: dt.timedelta = Field(default=dt.timedelta(minutes=30), description="grid of offered starts")
    buffer: dt.timedelta = Field(default=dt.timedelta(minutes=10), description="free time after a meeting")
    minimum_notice: dt.timedelta = dt.timedelta(hours=1)
    horizon: dt.timedelta = Field(default=dt.timedelta(days=30), description="how far ahead one can book")
    link_template: str | None = Field(
        default=DEFAULT_LINK_TEMPLATE, description="meeting link; placeholders {meeting_id} and {calendar}"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a directory ("Europe")
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("working_hours")
    @classmethod
    def _disjoint_windows(cls, value: WorkingHours) -> WorkingHours:
        ordered = {day: tuple(sorted(windows, key=lambda w: w.start)) for day, windows in value.items()}
        for day, windows in ordered.items():
            for before, after in itertools.pairwise(windows):
                if after.start < before.end:
                    raise ValueError(f"working windows overlap on {day.value}: {before} and {after}")
        return ordered

    @field_validator("slot_length", "horizon")
    @classmethod
    def _positive(cls, value: dt.timedelta) -> dt.timedelta:
        if value <= dt.timedelta(0):
            raise ValueError("must be positive")
        return value

    @field_validator("buffer", "minimum_notice")
    @classmethod
    def _not_negative(cls, value: dt.timedelta) -> dt.timedelta:
        if value < dt.timedelta(0):
            raise ValueError("must not be negative")
        return value

    @field_validator("link_template")
    @classmethod
    def _valid_template(cls, value: str | None) -> str | None:
        if value is not None:
            validate_link_template(value)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def windows_on(self, day: dt.date) -> tuple[WorkingWindow, ...]:
        return self.working_hours.get(Weekday.of(day), ())
