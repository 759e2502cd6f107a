"""One dial decision of a campaign, made at the moment of dialing: the facts are gathered (do-not-call
lists, consent, the calls placed to the number lately, the lead's zones), the pure :func:`~.decision.decide`
rules, and either the call is queued for the bridge or the refusal is recorded with its rule — in the runner's
transaction, with the lead's new state."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls.service import queue_new_call
from dialer.campaigns import capacity, repository
from dialer.campaigns.decision import DialFacts, Rules, Schedule, Verdict, decide
from dialer.campaigns.repository import CampaignRecord, LeadToDial
from dialer.policy import calling_hours, do_not_call
from dialer.policy.service import do_not_call_reason
from dialer.refusals import repository as refusals
from dialer.settings import Settings
from dialplane.api.campaigns import WEEKDAYS
from dialplane.api.campaigns import Schedule as ScheduleModel
from dialplane.calls import CallStatus
from dialplane.events import EventStream
from dialplane.log import mask_number

log = structlog.get_logger(__name__)

FINAL_STATUS_OF_RULE = {
    "do_not_call": "do_not_call",
    "consent": "failed",
    "calling_hours": "failed",  # no zone known for the number: it can never be called within the hours
    "schedule": "exhausted",  # the schedule has ended
    "attempt_cap": "exhausted",
}


def rules_of(campaign: CampaignRecord, settings: Settings) -> Rules:
    schedule = ScheduleModel.model_validate(campaign.schedule)
    return Rules(
        calling_hours=calling_hours.Window(settings.calling_hours_start, settings.calling_hours_end),
        schedule=Schedule(
            start_date=schedule.start_date,
            end_date=schedule.end_date,
            weekdays=frozenset(WEEKDAYS.index(day) for day in schedule.weekdays),
            window=calling_hours.Window(schedule.start_time, schedule.end_time),
        ),
        require_consent=campaign.require_consent,
        attempt_cap=campaign.attempt_cap,
        attempt_window=dt.timedelta(seconds=campaign.attempt_window_seconds),
    )


async def dial_facts(
    session: AsyncSession, settings: Settings, campaign: CampaignRecord, lead: LeadToDial, now: dt.datetime
) -> DialFacts:
    entry = await do_not_call.find(session, lead.phone, campaign.id)
    listed = do_not_call_reason(entry) if entry is not None else None
    if listed is None and lead.lead_status == "do_not_call":
        listed = "the lead is marked do_not_call"
    since = now - dt.timedelta(seconds=campaign.attempt_window_seconds)
    return DialFacts(
        zones=calling_hours.zones_for(lead.phone, lead.timezone),
        hours_exempt=calling_hours.is_exempt(lead.phone, settings.calling_hours_exempt_prefixes),
        consent=lead.consent,
        do_not_call=listed,
        recent_attempts=await capacity.recent_attempts(session, lead.phone, since),
    )


async def dial_lead(
    session: AsyncSession,
    stream: EventStream,
    settings: Settings,
    campaign: CampaignRecord,
    lead: LeadToDial,
    now: dt.datetime,
) -> bool:
    """Dial the claimed lead now if every rule allows it (True), else record why not (False)."""
    facts = await dial_facts(session, settings, campaign, lead, now)
    verdict = decide(now, facts, rules_of(campaign, settings))
    if not verdict.allowed:
        await _refuse(session, campaign, lead, verdict)
        return False
    call = await queue_new_call(session, stream, call_row(campaign, lead, settings))
    await repository.set_lead_state(
        session,
        campaign.id,
        lead.lead_id,
        status="queued",
        attempts=lead.attempts + 1,
        call_id=call.id,
        next_attempt_at=None,
    )
    return True


async def _refuse(
    session: AsyncSession, campaign: CampaignRecord, lead: LeadToDial, verdict: Verdict
) -> None:
    assert verdict.rule is not None
    await refusals.record(
        session,
        rule=verdict.rule,
        reason=verdict.reason,
        number=lead.phone,
        campaign_id=campaign.id,
        lead_id=lead.lead_id,
    )
    changes: dict[str, Any] = {"next_attempt_at": verdict.retry_at, "last_result": f"refused:{verdict.rule}"}
    if verdict.retry_at is None:
        changes["status"] = FINAL_STATUS_OF_RULE[verdict.rule]
    await repository.set_lead_state(session, campaign.id, lead.lead_id, **changes)
    log.info(
        "campaign_dial_refused",
        campaign_id=str(campaign.id),
        to=mask_number(lead.phone),
        rule=verdict.rule,
        retry_at=verdict.retry_at.isoformat() if verdict.retry_at else None,
    )


def call_row(campaign: CampaignRecord, lead: LeadToDial, settings: Settings) -> dict[str, Any]:
    """The columns of the campaign's call to ``lead`` (an agent call with the campaign's profile)."""
    person = {"name": lead.name, "email": lead.email, "timezone": lead.timezone}
    return {
        "id": uuid.uuid4(),
        "created_by": f"campaign:{campaign.id}",
        "to_number": lead.phone,
        "from_number": campaign.caller_id or settings.default_caller_id,
        "mode": "agent",
        "agent": {"profile": campaign.agent_profile, "lead": person, "variables": {}},
        "ivr": None,
        "status": CallStatus.QUEUED.value,
        "ring_timeout_seconds": campaign.ring_timeout_seconds or settings.default_ring_timeout_seconds,
        "max_duration_seconds": settings.default_max_duration_seconds,
        "machine_detection": campaign.machine_detection,
        "status_callback": None,
        "status_callback_events": [],
        "metadata": {"campaign_id": str(campaign.id), "lead_id": str(lead.lead_id)},
        "attempt_number": lead.attempts + 1,
        "campaign_id": campaign.id,
        "lead_id": lead.lead_id,
    }
