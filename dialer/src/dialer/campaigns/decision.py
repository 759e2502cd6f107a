"""The dial decision of a campaign lead, as a pure function of the facts gathered at the moment of dialing.

Rules, in order: the do-not-call list (or a lead marked do_not_call), consent when the campaign requires it,
the attempt cap per number over a rolling window, then the time: the calling hours and the campaign's schedule
(dates, weekdays, hours), both in the called party's local time, in *every* zone the lead may be in (the most
restrictive reading; see :mod:`dialer.policy.calling_hours` for where the zones come from).

A refusal names its rule and, when waiting helps, the earliest moment the lead may be dialed (``retry_at``); a
refusal without ``retry_at`` is final for this campaign.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dialer.policy.calling_hours import Window, Zones
from dialplane.api.calls import RefusalRule

SEARCH_DAYS = 9  # a weekly schedule opens within 8 days, whatever the day and zone


@dataclass(frozen=True, slots=True)
class Schedule:
    start_date: dt.date | None
    end_date: dt.date | None
    weekdays: frozenset[int]  # 0 = Monday
    window: Window


@dataclass(frozen=True, slots=True)
class Rules:
    calling_hours: Window
    schedule: Schedule
    require_consent: bool
    attempt_cap: int
    attempt_window: dt.timedelta


@dataclass(frozen=True, slots=True)
class DialFacts:
    zones: Zones
    hours_exempt: bool
    consent: bool
    do_not_call: str | None  # why the number may not be called, if it is listed
    recent_attempts: tuple[dt.datetime, ...]  # calls placed to the number within the attempt window


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: RefusalRule | None = None
    reason: str = ""
    retry_at: dt.datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.rule is None


ALLOWED = Verdict()


def decide(now: dt.datetime, facts: DialFacts, rules: Rules) -> Verdict:
    if facts.do_not_call is not None:
        return Verdict("do_not_call", facts.do_not_call)
    if rules.require_consent and not facts.consent:
        return Verdict("consent", "the campaign requires consent and the lead has not given it")
    capped = _attempt_cap(now, facts, rules)
    if capped is not None:
        return capped
    return _time(now, facts, rules)


def _attempt_cap(now: dt.datetime, facts: DialFacts, rules: Rules) -> Verdict | None:
    since = now - rules.attempt_window
    recent = sorted(at for at in facts.recent_attempts if at > since)
    if len(recent) < rules.attempt_cap:
        return None
    frees_at = recent[len(recent) - rules.attempt_cap] + rules.attempt_window + dt.timedelta(seconds=1)
    span = _span(rules.attempt_window)
    reason = f"{len(recent)} calls to the number in the last {span} (cap {rules.attempt_cap})"
    return Verdict("attempt_cap", reason, next_opening(frees_at, facts, rules))


def _time(now: dt.datetime, facts: DialFacts, rules: Rules) -> Verdict:
    reason = refusal_at(now, facts, rules)
    if reason is None:
        return ALLOWED
    rule, text = reason
    return Verdict(rule, text, next_opening(now, facts, rules))


def refusal_at(moment: dt.datetime, facts: DialFacts, rules: Rules) -> tuple[RefusalRule, str] | None:
    """Why the lead may not be called at ``moment`` by the time rules, or None."""
    if not facts.zones.names:
        return "calling_hours", "the called party's time zone is unknown"
    for name in facts.zones.names:
        local = moment.astimezone(ZoneInfo(name))
        if not facts.hours_exempt and not rules.calling_hours.holds(local.time()):
            return "calling_hours", (
                f"outside calling hours ({rules.calling_hours} local time): it is {local:%a %H:%M} in {name}"
                f" (zone from the {facts.zones.source})"
            )
        outside = _outside_schedule(local, rules.schedule)
        if outside is not None:
            return "schedule", f"{outside}: it is {local:%a %Y-%m-%d %H:%M} in {name}"
    return None


def _outside_schedule(local: dt.datetime, schedule: Schedule) -> str | None:
    if schedule.start_date is not None and local.date() < schedule.start_date:
        return f"the campaign starts on {schedule.start_date}"
    if schedule.end_date is not None and local.date() > schedule.end_date:
        return f"the campaign ended on {schedule.end_date}"
    if local.weekday() not in schedule.weekdays:
        return "the campaign does not call on this weekday"
    if not schedule.window.holds(local.time()):
        return f"outside the campaign's hours ({schedule.window} local time)"
    return None


def next_opening(after: dt.datetime, facts: DialFacts, rules: Rules) -> dt.datetime | None:
    """The earliest moment from ``after`` on at which the time rules allow the call; None if there is none
    within the search horizon (the schedule has ended, the zone is unknown)."""
    if refusal_at(after, facts, rules) is None:
        return after
    for candidate in _candidates(after, facts, rules):
        if refusal_at(candidate, facts, rules) is None:
            return candidate
    return None


def _candidates(after: dt.datetime, facts: DialFacts, rules: Rules) -> list[dt.datetime]:
    """Moments at which the allowed time can begin: a window's start (calling hours or schedule) on a local
    day of any of the zones, from the day of ``after`` (or of the schedule's first day) on."""
    starts = {rules.calling_hours.start, rules.schedule.window.start}
    found: set[dt.datetime] = set()
    for name in facts.zones.names:
        zone = ZoneInfo(name)
        first = after.astimezone(zone).date()
        if rules.schedule.start_date is not None and rules.schedule.start_date > first:
            first = rules.schedule.start_date
        for offset in range(SEARCH_DAYS):
            day = first + dt.timedelta(days=offset)
            for start in starts:
                moment = _instant(day, start, zone)
                if moment > after:
                    found.add(moment)
    return sorted(found)


def _instant(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """``time`` on ``day`` in ``zone`` as UTC; a wall time skipped by a DST change maps past the gap (fold=0
    takes the offset from before the change, PEP 495)."""
    return dt.datetime.combine(day, time, tzinfo=zone).astimezone(dt.UTC)


def _span(window: dt.timedelta) -> str:
    days = window.total_seconds() / 86_400
    return f"{days:g} days" if days >= 1 else f"{window.total_seconds() / 3600:g} hours"
