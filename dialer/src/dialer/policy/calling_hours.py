"""Calling hours: a call may start only while the called party's local time is inside the window.

Which zones count (the most restrictive reading wherever there is doubt):

1. the lead's own zone (``agent.lead.timezone``) when given;
2. else the zones libphonenumber gives the number (its area code's; a number whose area spans several
   zones must be inside the window in each of them);
3. else, when the number has no known zone, every zone of its country calling code (``+1``: the whole NANP,
   whose zones are too far apart for a 13-hour window ever to hold in all of them, so such calls are
   refused unless exempt or given a lead zone);
4. no zone at all: refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dialer import numbers


@dataclass(frozen=True, slots=True)
class Window:
    start: dt.time
    end: dt.time  # exclusive

    def holds(self, local: dt.time) -> bool:
        return self.start <= local < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class Zones:
    names: tuple[str, ...]
    source: str  # "lead", "number" or "country"


def zones_for(e164: str, lead_timezone: str | None) -> Zones:
    if lead_timezone:
        return Zones((lead_timezone,), "lead")
    by_number = numbers.time_zones(e164)
    if by_number:
        return Zones(by_number, "number")
    return Zones(numbers.country_time_zones(e164), "country")


def outside_window(now: dt.datetime, zones: Zones, window: Window) -> str | None:
    """Why a call now breaks the window (a human-readable reason), or None if it may start."""
    if not zones.names:
        return "outside calling hours: the called party's time zone is unknown"
    for name in zones.names:
        local = now.astimezone(ZoneInfo(name))
        if not window.holds(local.time()):
            return (
                f"outside calling hours ({window} local time): it is {local:%H:%M} in {name}"
                f" (zone from the {zones.source})"
            )
    return None


def is_exempt(e164: str, prefixes: list[str]) -> bool:
    return any(e164.startswith(prefix) for prefix in prefixes)
