"""No number dialed more than its policy allows.

* The retry policy (per result, the lead's maximum attempts in the campaign): a lead's call number ``n`` may
  follow a call that ended with a retried result (busy, no_answer, failed, voicemail, abandoned) only if that
  result's rule allows ``n`` attempts — the dialer settles the lead ``exhausted`` otherwise. Calls after any
  other result (a callback, one set through the API) are not limited by the policy.
* The attempt cap: when a campaign placed a call, fewer than its ``attempt_cap`` calls (all calls to the
  number, refused ones excepted) had been placed to the number within its ``attempt_window_seconds``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.api.campaigns import RetryPolicy
from dialplane.audit.campaigns import CampaignCall, CampaignFacts
from dialplane.audit.findings import Finding, Invariant, Scope, in_scope
from dialplane.lead_rules import retry_rule

_OVER_CAP = text(
    f"""
    SELECT c.id, c.campaign_id, c.lead_id, c.to_number, k.attempt_cap, k.attempt_window_seconds,
           count(p.id) AS earlier
    FROM calls c
    JOIN campaigns k ON k.id = c.campaign_id
    JOIN calls p ON p.to_number = c.to_number AND p.refused_by IS NULL
         AND p.created_at > c.created_at - make_interval(secs => k.attempt_window_seconds)
         AND (p.created_at, p.id) < (c.created_at, c.id)
    WHERE c.refused_by IS NULL AND {in_scope("c.campaign_id")}
    GROUP BY c.id, c.campaign_id, c.lead_id, c.to_number, k.attempt_cap, k.attempt_window_seconds
    HAVING count(p.id) >= k.attempt_cap
    ORDER BY c.to_number, c.created_at
    """
)


async def check_limits(session: AsyncSession, scope: Scope, facts: CampaignFacts) -> list[Finding]:
    found: list[Finding] = []
    for (campaign_id, _), calls in facts.lead_calls.items():
        found += retry_findings(calls, facts.campaigns[campaign_id].retry_policy)
    return found + await _over_cap(session, scope)


def retry_findings(calls: Sequence[CampaignCall], policy: RetryPolicy) -> list[Finding]:
    """Calls of one campaign lead (oldest first) that its retry policy did not allow."""
    found = []
    for attempt, (previous, call) in enumerate(itertools.pairwise(calls), start=2):
        rule = retry_rule(policy, previous.result)
        if previous.status.is_terminal and rule is not None and attempt > rule.max_attempts:
            message = (
                f"attempt {attempt} of the lead, after its call {previous.id} ended {previous.result}:"
                f" the retry policy allows {rule.max_attempts} attempts after {previous.result}"
            )
            found.append(_finding(call, message))
    return found


def _finding(call: CampaignCall, message: str) -> Finding:
    return Finding(
        Invariant.DIAL_LIMITS,
        message,
        call_id=call.id,
        lead_id=call.lead_id,
        campaign_id=call.campaign_id,
        number=call.to_number,
    )


async def _over_cap(session: AsyncSession, scope: Scope) -> list[Finding]:
    rows = (await session.execute(_OVER_CAP, scope.params())).all()
    return [
        Finding(
            Invariant.DIAL_LIMITS,
            f"call {row.earlier + 1} to the number within {_span(row.attempt_window_seconds)}:"
            f" the campaign's attempt cap is {row.attempt_cap}",
            call_id=row.id,
            lead_id=row.lead_id,
            campaign_id=row.campaign_id,
            number=row.to_number,
        )
        for row in rows
    ]


def _span(seconds: int) -> str:
    window = dt.timedelta(seconds=seconds)
    days = window.total_seconds() / 86_400
    if days >= 1:
        return f"{days:g} day{'s' if days != 1 else ''}"
    hours = window.total_seconds() / 3600
    return f"{hours:g} hour{'s' if hours != 1 else ''}"
