"""Property tests of the dial decision over random zones, clocks, schedules, do-not-call states and call
histories: a call is never allowed outside the window or schedule of any of the lead's zones, never to a
listed number, never over the attempt cap; and a refusal's ``retry_at`` is a moment the call is allowed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.campaigns.decision import DialFacts, Rules, Schedule, Verdict, decide, next_opening, refusal_at
from dialer.policy.calling_hours import Window, Zones

ZONES = sorted(
    zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/"))
)
CALLING_HOURS = Window(dt.time(8), dt.time(21))

moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(dt.UTC)
)
zones = st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    start = draw(st.integers(0, 22))
    end = draw(st.integers(start + 1, 24))
    first = draw(st.none() | st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
    last = draw(st.none() | st.dates(first or dt.date(2024, 1, 1), dt.date(2031, 6, 30)))
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    return Schedule(first, last, frozenset(weekdays), Window(dt.time(start), _time_of(end)))


def _time_of(hour: int) -> dt.time:
    return dt.time.max if hour == 24 else dt.time(hour)


@st.composite
def cases(draw: st.DrawFn) -> tuple[dt.datetime, DialFacts, Rules]:
    now = draw(moments)
    cap = draw(st.integers(1, 10))
    window = dt.timedelta(days=draw(st.integers(1, 14)))
    history = draw(st.lists(st.timedeltas(dt.timedelta(0), dt.timedelta(days=20)), max_size=15))
    facts = DialFacts(
        zones=Zones(tuple(draw(zones)), draw(st.sampled_from(["lead", "number", "country"]))),
        hours_exempt=draw(st.booleans()),
        consent=draw(st.booleans()),
        do_not_call=draw(st.none() | st.just("the number is on the do-not-call list")),
        recent_attempts=tuple(now - ago for ago in history),
    )
    rules = Rules(CALLING_HOURS, draw(schedules()), draw(st.booleans()), cap, window)
    return now, facts, rules


def attempts_in_window(moment: dt.datetime, facts: DialFacts, rules: Rules) -> int:
    return sum(moment - rules.attempt_window < at <= moment for at in facts.recent_attempts)


def inside_every_window(moment: dt.datetime, facts: DialFacts, rules: Rules) -> bool:
    for name in facts.zones.names:
        local = moment.astimezone(ZoneInfo(name))
        schedule = rules.schedule
        if not facts.hours_exempt and not CALLING_HOURS.start <= local.time() < CALLING_HOURS.end:
            return False
        if not schedule.window.start <= local.time() < schedule.window.end:
            return False
        if local.weekday() not in schedule.weekdays:
            return False
        if schedule.start_date and local.date() < schedule.start_date:
            return False
        if schedule.end_date and local.date() > schedule.end_date:
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(cases())
def test_an_allowed_dial_breaks_no_rule(case: tuple[dt.datetime, DialFacts, Rules]) -> None:
    now, facts, rules = case
    verdict = decide(now, facts, rules)
    if verdict.allowed:
        assert facts.do_not_call is None
        assert facts.consent or not rules.require_consent
        assert attempts_in_window(now, facts, rules) < rules.attempt_cap
        assert inside_every_window(now, facts, rules)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_a_refusal_names_the_first_rule_broken(case: tuple[dt.datetime, DialFacts, Rules]) -> None:
    now, facts, rules = case
    verdict = decide(now, facts, rules)
    if facts.do_not_call is not None:
        assert verdict == Verdict("do_not_call", facts.do_not_call)
    elif rules.require_consent and not facts.consent:
        assert verdict.rule == "consent" and verdict.retry_at is None
    elif attempts_in_window(now, facts, rules) >= rules.attempt_cap:
        assert verdict.rule == "attempt_cap"
    elif not inside_every_window(now, facts, rules):
        assert verdict.rule in ("calling_hours", "schedule")
    else:
        assert verdict.allowed


@settings(max_examples=400, deadline=None)
@given(cases())
def test_retry_at_is_a_moment_the_dial_is_allowed(case: tuple[dt.datetime, DialFacts, Rules]) -> None:
    now, facts, rules = case
    verdict = decide(now, facts, rules)
    if verdict.retry_at is not None:
        assert verdict.retry_at > now
        assert inside_every_window(verdict.retry_at, facts, rules)
        assert attempts_in_window(verdict.retry_at, facts, rules) < rules.attempt_cap


@settings(max_examples=60, deadline=None)
@given(cases(), st.integers(1, 59))
def test_the_next_opening_is_the_earliest(case: tuple[dt.datetime, DialFacts, Rules], offset: int) -> None:
    now, facts, rules = case
    opening = next_opening(now, facts, rules)
    if opening is None or opening - now > dt.timedelta(days=2):
        return
    # no allowed moment between now and the opening, probed every 30 minutes (from a random offset)
    probe = now + dt.timedelta(minutes=offset)
    while probe < opening:
        assert refusal_at(probe, facts, rules) is not None, f"allowed at {probe}, before {opening}"
        probe += dt.timedelta(minutes=30)


def test_a_new_york_lead_at_night_waits_for_eight_o_clock() -> None:
    schedule = Schedule(None, None, frozenset(range(7)), Window(dt.time(8), dt.time(21)))
    rules = Rules(CALLING_HOURS, schedule, False, 7, dt.timedelta(days=7))
    facts = DialFacts(Zones(("America/New_York",), "lead"), False, True, None, ())
    verdict = decide(dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC), facts, rules)  # 22:00 in New York
    assert verdict.rule == "calling_hours" and "22:00 in America/New_York" in verdict.reason
    assert verdict.retry_at == dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
