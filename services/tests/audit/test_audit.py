"""The audit passes a consistent database and reports exactly the one violation written into it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from dialplane.audit import AuditReport, Finding, Invariant, Scope, audit_database
from dialplane.db import SessionFactory

LISTED_NUMBER = "+33611112222"


def only(report: AuditReport) -> Finding:
    assert len(report.violations) == 1, [(f.invariant, f.subject, f.message) for f in report.violations]
    return report.violations[0]


async def test_a_consistent_database_is_clean(sessions: SessionFactory, clean_world: Any) -> None:
    report = await audit_database(sessions)

    assert report.violations == []
    assert report.in_flight == []
    assert report.clean(settled=True)


async def test_a_completed_call_without_its_terminal_event(
    sessions: SessionFactory, world: Any, clean_world: Any
) -> None:
    call = await world.call("+33600000001", events=("queued", "dialing", "ringing", "answered"))
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id) == (Invariant.EVENTS, call)
    assert "completed, but its events end at call.answered: no terminal event" in finding.message


async def test_events_out_of_order(sessions: SessionFactory, world: Any, clean_world: Any) -> None:
    shuffled = ("queued", "ringing", "dialing", "answered", "completed")
    call = await world.call("+33600000001", events=shuffled)
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id) == (Invariant.EVENTS, call)
    assert "call.ringing follows call.queued: the state machine forbids it" in finding.message


async def test_a_lost_event_in_the_middle(sessions: SessionFactory, world: Any, clean_world: Any) -> None:
    call = await world.call("+33600000001", events=("queued", "dialing", "answered", "completed"))
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id) == (Invariant.EVENTS, call)
    assert "call.answered names call.ringing before it" in finding.message


async def test_a_lead_dialed_four_times_under_a_policy_of_three(
    sessions: SessionFactory, world: Any, clean_world: dict[str, uuid.UUID]
) -> None:
    campaign = clean_world["campaign"]
    lead = await world.lead("+442071239999")
    calls = [
        await world.call("+442071239999", world.BUSY, at=world.minutes(20 * n), campaign=campaign, lead=lead)
        for n in range(4)
    ]
    await world.campaign_lead(campaign, lead, "exhausted", attempts=4, call=calls[-1], last_result="busy")
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id, finding.lead_id) == (Invariant.DIAL_LIMITS, calls[3], lead)
    assert "attempt 4" in finding.message and "allows 3 attempts after busy" in finding.message


async def test_a_number_called_past_the_attempt_cap(sessions: SessionFactory, world: Any) -> None:
    campaign = await world.campaign(attempt_cap=2, window_days=1)
    lead = await world.lead("+442071238888")
    await world.call("+442071238888", at=world.minutes(0))  # two calls through the API...
    await world.call("+442071238888", at=world.minutes(60))
    call = await world.call("+442071238888", at=world.minutes(120), campaign=campaign, lead=lead)
    await world.campaign_lead(campaign, lead, "contacted", attempts=1, call=call, last_result="answered")
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id) == (Invariant.DIAL_LIMITS, call)
    assert "call 3 to the number within 1 day: the campaign's attempt cap is 2" in finding.message


async def test_overlapping_calls_of_one_lead(
    sessions: SessionFactory, world: Any, clean_world: dict[str, uuid.UUID]
) -> None:
    campaign = clean_world["campaign"]
    lead = await world.lead("+442071237777")
    first = await world.call(
        "+442071237777", world.NO_ANSWER, lasting=dt.timedelta(minutes=5), campaign=campaign, lead=lead
    )
    second = await world.call("+442071237777", at=world.minutes(2), campaign=campaign, lead=lead)
    await world.campaign_lead(campaign, lead, "contacted", attempts=2, call=second, last_result="answered")
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id, finding.lead_id) == (Invariant.OVERLAP, second, lead)
    assert f"while the lead's call {first} was still going on" in finding.message


async def test_a_webhook_that_was_never_delivered(
    sessions: SessionFactory, world: Any, clean_world: Any
) -> None:
    call = await world.call("+33600000001", callback_events=("completed",), delivery="failed")
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id) == (Invariant.WEBHOOKS, call)
    assert "of call.completed to https://hooks.example.com failed after 3 attempts" in finding.message
    assert "token" not in finding.message


async def test_a_status_reached_without_a_delivery(
    sessions: SessionFactory, world: Any, clean_world: Any
) -> None:
    call = await world.call("+33600000001", callback_events=("completed",))
    await world.sql("DELETE FROM webhook_deliveries WHERE call_id = :id", id=str(call))
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id) == (Invariant.WEBHOOKS, call)
    assert "no delivery of call.completed" in finding.message


async def test_a_call_to_a_number_after_it_was_listed(
    sessions: SessionFactory, world: Any, clean_world: Any
) -> None:
    await world.do_not_call("+336111", world.minutes(0), match="prefix")
    await world.call(LISTED_NUMBER, at=world.minutes(-10))  # before the listing: allowed
    call = await world.call(LISTED_NUMBER, at=world.minutes(30))
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.call_id, finding.number) == (
        Invariant.DO_NOT_CALL,
        call,
        LISTED_NUMBER,
    )
    assert "after the prefix" in finding.message and "should have been refused" in finding.message


async def test_a_lead_still_calling_after_its_call_ended(sessions: SessionFactory, world: Any) -> None:
    campaign = await world.campaign(status="running")
    lead = await world.lead("+442071236666")
    call = await world.call("+442071236666", campaign=campaign, lead=lead)
    await world.campaign_lead(campaign, lead, "calling", attempts=1, call=call, last_result=None)
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.lead_id) == (Invariant.FINAL_STATE, lead)
    assert f"is still calling though its call {call} ended completed" in finding.message


async def test_a_settled_lead_whose_status_does_not_follow_the_policy(
    sessions: SessionFactory, world: Any
) -> None:
    campaign = await world.campaign()
    lead = await world.lead("+442071235555")
    calls = [
        await world.call("+442071235555", world.BUSY, at=world.minutes(20 * n), campaign=campaign, lead=lead)
        for n in range(3)
    ]
    await world.campaign_lead(campaign, lead, "no_answer", attempts=3, call=calls[-1], last_result="busy")
    await world.consumer_caught_up()

    finding = only(await audit_database(sessions))

    assert (finding.invariant, finding.lead_id) == (Invariant.FINAL_STATE, lead)
    assert "is no_answer" in finding.message and "it should be exhausted" in finding.message


async def test_a_running_campaign_reports_what_is_in_flight(sessions: SessionFactory, world: Any) -> None:
    campaign = await world.campaign(status="running")
    busy, waiting = await world.lead("+442071234444"), await world.lead("+442071233333")
    call = await world.call(
        "+442071234444", ("queued", "dialing", "ringing", "answered"), campaign=campaign, lead=busy
    )
    await world.campaign_lead(campaign, busy, "calling", attempts=1, call=call, last_result=None)
    await world.campaign_lead(
        campaign,
        waiting,
        "pending",
        attempts=0,
        call=None,
        last_result=None,
        next_attempt_at=world.minutes(5),
    )
    await world.consumer_caught_up()

    report = await audit_database(sessions)

    assert report.violations == [] and report.clean() and not report.clean(settled=True)
    in_flight = {(f.call_id, f.lead_id, f.campaign_id): f.message for f in report.in_flight}
    assert in_flight == {
        (call, busy, campaign): "still answered",
        (None, busy, campaign): f"is calling: call {call} is answered",
        (None, None, campaign): "1 leads wait for an attempt (the first due at 2026-11-02T10:05:00+00:00)",
    }


async def test_an_event_not_applied_yet_is_in_flight_not_lost(
    sessions: SessionFactory, world: Any, clean_world: Any
) -> None:
    call = await world.call("+33600000001", ("queued", "dialing"), events=("queued", "dialing", "ringing"))

    report = await audit_database(sessions)

    assert report.violations == []
    assert [(f.call_id, f.message) for f in report.in_flight] == [
        (call, "dialing; call.ringing not applied by the dialer yet")
    ]


async def test_one_campaign_is_audited_alone(
    sessions: SessionFactory, world: Any, clean_world: dict[str, uuid.UUID]
) -> None:
    other = await world.campaign()
    lead = await world.lead("+442071232222")
    call = await world.call("+442071232222", campaign=other, lead=lead)
    await world.campaign_lead(other, lead, "calling", attempts=1, call=call, last_result=None)

    assert (await audit_database(sessions, Scope(clean_world["campaign"]))).clean(settled=True)
    assert only(await audit_database(sessions, Scope(other))).lead_id == lead
