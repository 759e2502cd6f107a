"""What a campaign call's progress means for its lead, in the transaction of the event that reports it.

* The call is dialing, ringing or answered: the lead is ``calling``.
* The call has ended: the lead's next state follows from the call's result and the campaign's retry policy
  (busy, no answer, failed, voicemail, abandoned: retried after the rule's delay until its attempts are used
  up, then ``exhausted``) or from the conversation's outcome (a meeting, not interested, an opt-out, a
  callback at the time the person asked for; anything else: ``contacted``).

The conversation's end may be reported before or after the call's: each report settles the lead again from
everything known so far, so the order does not matter and a repeated report changes nothing. Only the lead's
latest call can settle it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls.repository import CallRecord
from dialer.campaigns import repository
from dialer.campaigns.repository import CampaignLeadRecord
from dialplane.api.campaigns import RetryPolicy
from dialplane.calls import CallStatus
from dialplane.lead_rules import call_result, retry_rule, settled_status

log = structlog.get_logger(__name__)

IN_CALL = (CallStatus.DIALING, CallStatus.RINGING, CallStatus.ANSWERED)


class CampaignCallListener:
    """The :class:`~dialer.calls.listeners.StatusListener` that moves campaign leads along with their calls;
    ``wake`` is told when a call ends (its capacity is free again)."""

    def __init__(self, wake: Callable[[], None], callback_delay: dt.timedelta) -> None:
        self._wake = wake
        self._callback_delay = callback_delay

    async def call_status_changed(
        self, session: AsyncSession, call: CallRecord, event_type: str, payload: Mapping[str, Any]
    ) -> None:
        if call.campaign_id is None or call.lead_id is None:
            return
        if call.status in IN_CALL:
            await _mark_calling(session, call)
        elif call.status.is_terminal:
            await settle(session, call, self._callback_delay)
            self._wake()


async def _mark_calling(session: AsyncSession, call: CallRecord) -> None:
    assert call.campaign_id is not None and call.lead_id is not None
    lead = await repository.get_campaign_lead(session, call.campaign_id, call.lead_id, lock=True)
    if lead is not None and lead.call_id == call.id and lead.status == "queued":
        await repository.set_lead_state(session, call.campaign_id, call.lead_id, status="calling")


async def settle(
    session: AsyncSession,
    call: CallRecord,
    callback_delay: dt.timedelta,
    callback_at: dt.datetime | None = None,
) -> None:
    """Settle the lead of a campaign call from what is known of the call (and, once the conversation has
    ended, the callback time the person asked for)."""
    if call.campaign_id is None or call.lead_id is None:
        return
    lead = await repository.get_campaign_lead(session, call.campaign_id, call.lead_id, lock=True)
    if lead is None or lead.call_id != call.id:
        return
    if callback_at is not None:
        await repository.set_lead_state(session, call.campaign_id, call.lead_id, callback_at=callback_at)
        lead = await repository.get_campaign_lead(session, call.campaign_id, call.lead_id)
        assert lead is not None
    if not call.status.is_terminal:
        return
    campaign = await repository.get(session, call.campaign_id)
    if campaign is None:
        return
    policy = RetryPolicy.model_validate(campaign.retry_policy)
    changes = next_state(call, lead, policy, callback_delay)
    await repository.set_lead_state(session, call.campaign_id, call.lead_id, **changes)
    log.info("campaign_lead_settled", campaign_id=str(call.campaign_id), status=changes["status"])


def result_of(call: CallRecord) -> str:
    """busy, no_answer, failed, voicemail, abandoned, an outcome of the conversation, or ``answered``."""
    return call_result(call.status, call.abandoned, call.answered_by, call.outcome)


def next_state(
    call: CallRecord, lead: CampaignLeadRecord, policy: RetryPolicy, callback_delay: dt.timedelta
) -> dict[str, Any]:
    result = result_of(call)
    ended = call.ended_at or call.created_at
    status = settled_status(result, lead.attempts, policy)
    next_attempt_at = None
    rule = retry_rule(policy, result)
    if rule is not None and status != "exhausted":
        next_attempt_at = ended + dt.timedelta(seconds=rule.delay_seconds)
    elif status == "callback":
        next_attempt_at = lead.callback_at or ended + callback_delay
    return {"status": status, "next_attempt_at": next_attempt_at, "last_result": result}
