"""Campaigns, their calls, and what a call's result means for its lead — as the dialer's
``campaigns/settle.py`` decides it, restated here so the audit can judge a database without the dialer."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.api.campaigns import RetryPolicy
from dialplane.audit.findings import Scope, in_scope
from dialplane.calls import CallStatus
from dialplane.lead_rules import call_result

BUSY_LEAD = ("queued", "calling")

_CAMPAIGNS = text(
    f"""
    SELECT id, status, retry_policy, attempt_cap, attempt_window_seconds FROM campaigns
    WHERE {in_scope("id")}
    """
)
_CALLS = text(
    f"""
    SELECT id, campaign_id, lead_id, to_number, status, abandoned, answered_by, outcome, created_at, ended_at
    FROM calls
    WHERE campaign_id IS NOT NULL AND lead_id IS NOT NULL AND refused_by IS NULL
      AND {in_scope("campaign_id")}
    ORDER BY campaign_id, lead_id, created_at, id
    """
)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: uuid.UUID
    status: str
    retry_policy: RetryPolicy
    attempt_cap: int
    attempt_window: dt.timedelta


@dataclass(frozen=True, slots=True)
class CampaignCall:
    id: uuid.UUID
    campaign_id: uuid.UUID
    lead_id: uuid.UUID
    to_number: str
    status: CallStatus
    abandoned: bool
    answered_by: str | None
    outcome: str | None
    created_at: dt.datetime
    ended_at: dt.datetime | None

    @property
    def result(self) -> str:
        return call_result(self.status, self.abandoned, self.answered_by, self.outcome)


LeadCalls = dict[tuple[uuid.UUID, uuid.UUID], list[CampaignCall]]
"""Each (campaign, lead)'s calls, oldest first."""


async def load_campaigns(session: AsyncSession, scope: Scope) -> dict[uuid.UUID, Campaign]:
    rows = (await session.execute(_CAMPAIGNS, scope.params())).all()
    return {
        row.id: Campaign(
            row.id,
            row.status,
            RetryPolicy.model_validate(row.retry_policy),
            row.attempt_cap,
            dt.timedelta(seconds=row.attempt_window_seconds),
        )
        for row in rows
    }


async def load_lead_calls(session: AsyncSession, scope: Scope) -> LeadCalls:
    calls: LeadCalls = defaultdict(list)
    for row in (await session.execute(_CALLS, scope.params())).all():
        values = dict(row._mapping)
        values["status"] = CallStatus(values["status"])
        call = CampaignCall(**values)
        calls[(call.campaign_id, call.lead_id)].append(call)
    return calls


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """The audited campaigns and their leads' calls, read once for every check."""

    campaigns: dict[uuid.UUID, Campaign]
    lead_calls: LeadCalls


async def load_facts(session: AsyncSession, scope: Scope) -> CampaignFacts:
    return CampaignFacts(await load_campaigns(session, scope), await load_lead_calls(session, scope))
