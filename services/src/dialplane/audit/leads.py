"""Every campaign lead in a consistent state: its attempt counter and latest call match its calls; a lead
being called has a call in flight and a lead settled has none; a settled lead's status is what its latest
call's result and the campaign's retry policy make it (``campaigns/settle.py``); a completed campaign's
leads are all final. Leads of a running or paused campaign waiting for an attempt are in flight (one line
per campaign)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.audit.campaigns import (
    BUSY_LEAD,
    Campaign,
    CampaignCall,
    CampaignFacts,
)
from dialplane.audit.findings import Finding, Invariant, Scope, in_scope
from dialplane.lead_rules import retry_rule, settled_status

NOT_FINAL = ("pending", *BUSY_LEAD)
DIALING = ("running", "paused")
"""Campaigns whose waiting leads are in flight (a draft's have not started, a stopped one's never will)."""

_LEADS = text(
    f"""
    SELECT cl.campaign_id, cl.lead_id, cl.status, cl.attempts, cl.next_attempt_at, cl.call_id,
           cl.last_result, cl.callback_at, l.phone
    FROM campaign_leads cl JOIN leads l ON l.id = cl.lead_id
    WHERE {in_scope("cl.campaign_id")}
    ORDER BY cl.campaign_id, cl.lead_id
    """
)


@dataclass(frozen=True, slots=True)
class CampaignLead:
    campaign_id: uuid.UUID
    lead_id: uuid.UUID
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    call_id: uuid.UUID | None
    last_result: str | None
    callback_at: dt.datetime | None
    phone: str

    def finding(self, message: str, *, flight: bool = False) -> Finding:
        return Finding(
            Invariant.FINAL_STATE,
            message,
            lead_id=self.lead_id,
            campaign_id=self.campaign_id,
            number=self.phone,
            in_flight=flight,
        )


async def check_leads(session: AsyncSession, scope: Scope, facts: CampaignFacts) -> list[Finding]:
    campaigns, calls = facts.campaigns, facts.lead_calls
    leads = [CampaignLead(**row._mapping) for row in (await session.execute(_LEADS, scope.params())).all()]
    found: list[Finding] = []
    waiting: dict[uuid.UUID, list[CampaignLead]] = defaultdict(list)
    for lead in leads:
        campaign = campaigns[lead.campaign_id]
        found += lead_findings(lead, calls.get((lead.campaign_id, lead.lead_id), []), campaign)
        if campaign.status in DIALING and lead.next_attempt_at is not None:
            waiting[lead.campaign_id].append(lead)
    return found + [_waiting(campaign_id, due) for campaign_id, due in waiting.items()]


def lead_findings(lead: CampaignLead, calls: Sequence[CampaignCall], campaign: Campaign) -> list[Finding]:
    """What is wrong with one campaign lead, given its calls in the campaign (oldest first)."""
    found = []
    if lead.attempts != len(calls):
        found.append(lead.finding(f"its attempt counter is {lead.attempts} but it has {len(calls)} calls"))
    latest = calls[-1] if calls else None
    if lead.call_id != (latest.id if latest else None):
        found.append(lead.finding(f"points at call {lead.call_id}, not its latest call {_id(latest)}"))
        latest = None
    if campaign.status == "completed" and (lead.status in NOT_FINAL or lead.next_attempt_at is not None):
        return [*found, lead.finding(f"the campaign is completed but the lead is {_state(lead)}")]
    if lead.status in BUSY_LEAD:
        return found + _being_called(lead, latest)
    if latest is not None:
        found += _settled(lead, latest, campaign)
    return found


def _being_called(lead: CampaignLead, call: CampaignCall | None) -> list[Finding]:
    if call is None:
        return [lead.finding(f"is {lead.status} but has no call")]
    if call.status.is_terminal:
        return [lead.finding(f"is still {lead.status} though its call {call.id} ended {call.status}")]
    return [lead.finding(f"is {lead.status}: call {call.id} is {call.status}", flight=True)]


def _settled(lead: CampaignLead, call: CampaignCall, campaign: Campaign) -> list[Finding]:
    """A lead not being called, whose latest call is ``call``."""
    if not call.status.is_terminal:
        return [lead.finding(f"is {lead.status} while its call {call.id} is still {call.status}")]
    if (lead.last_result or "").startswith("refused:"):
        return []  # a later dial decision refused the lead and set its state
    if lead.status == "callback" and lead.callback_at is not None:
        return []  # a callback asked for by the person or set through the API
    result = call.result
    if lead.last_result != result:
        return [lead.finding(f"its last result is {lead.last_result} but its call {call.id} ended {result}")]
    expected = settled_status(result, lead.attempts, campaign.retry_policy)
    if lead.status == expected:
        return []
    rule = retry_rule(campaign.retry_policy, result)
    limit = f" (attempt {lead.attempts}, the policy allows {rule.max_attempts})" if rule else ""
    message = f"is {lead.status}, but after a call that ended {result}{limit} it should be {expected}"
    return [lead.finding(message)]


def _waiting(campaign_id: uuid.UUID, leads: Sequence[CampaignLead]) -> Finding:
    first = min(lead.next_attempt_at for lead in leads if lead.next_attempt_at is not None)
    message = f"{len(leads)} leads wait for an attempt (the first due at {first.isoformat()})"
    return Finding(Invariant.FINAL_STATE, message, campaign_id=campaign_id, in_flight=True)


def _state(lead: CampaignLead) -> str:
    due = f", due again at {lead.next_attempt_at.isoformat()}" if lead.next_attempt_at else ""
    return f"{lead.status}{due}"


def _id(call: CampaignCall | None) -> str:
    return "(none)" if call is None else str(call.id)
