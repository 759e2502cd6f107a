"""The dialer's consumer of the AI agent's ``conversations`` stream (group ``dialer-conversations``).

* ``conversation.opted_out`` — the person asked not to be called again: the called number goes on the
  global do-not-call list at once (while the call may still be going on), so no later call reaches it.
* ``conversation.ended`` — the call gets the conversation's ``outcome``, its summary, the transcript's
  address and how long the person waited for the agent's first audio; an opt-out is (again, idempotently) put
  on the do-not-call list; a campaign call's lead is settled (:mod:`dialer.campaigns.settle`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from prometheus_client import Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls import repository
from dialer.calls.repository import CallRecord
from dialer.calls.views import CALLS_PATH
from dialer.campaigns.settle import settle
from dialer.policy import do_not_call
from dialplane.api.calls import OUTCOMES
from dialplane.calls import CONVERSATION_ENDED
from dialplane.events import Event
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

CONSUMER_GROUP = "dialer-conversations"
OPTED_OUT = "conversation.opted_out"

AGENT_AUDIO_DELAY = Histogram(
    "dialer_agent_audio_delay_seconds",
    "Seconds from the answer of an agent call to the agent's first audio (over 2 s: the call is abandoned).",
    namespace=NAMESPACE,
    buckets=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0),
)


class ConversationEvents:
    def __init__(self, callback_delay: dt.timedelta) -> None:
        self._callback_delay = callback_delay

    async def handle(self, session: AsyncSession, event: Event) -> None:
        if event.type not in (OPTED_OUT, CONVERSATION_ENDED):
            return
        try:
            call_id = uuid.UUID(event.key)
        except ValueError:
            return
        call = await repository.get(session, call_id, lock=True)
        if call is None:
            log.warning("conversation_for_unknown_call", call_id=event.key)
            return
        if event.type == OPTED_OUT or event.data.get("opted_out"):
            await do_not_call.add_once(
                session, call.to_number, reason="asked not to be called again", source=f"call:{call_id}"
            )
        if event.type == CONVERSATION_ENDED:
            call = await _record_outcome(session, call, event.data)
            await settle(session, call, self._callback_delay, _moment(event.data.get("callback_at")))


async def _record_outcome(session: AsyncSession, call: CallRecord, data: Mapping[str, Any]) -> CallRecord:
    outcome = data.get("outcome")
    delay = _audio_delay(call, _moment(data.get("first_audio_at")))
    if delay is not None:
        AGENT_AUDIO_DELAY.observe(delay)
    log.info("call_outcome", call_id=str(call.id), outcome=outcome, agent_audio_delay=delay)
    return await repository.update_call(
        session,
        call.id,
        outcome=outcome if outcome in OUTCOMES else None,
        summary=data.get("summary"),
        transcript_url=f"{CALLS_PATH}/{call.id}/transcript",
        agent_audio_delay_seconds=delay,
    )


def _audio_delay(call: CallRecord, first_audio_at: dt.datetime | None) -> float | None:
    if first_audio_at is None or call.answered_at is None:
        return None
    return round(max(0.0, (first_audio_at - call.answered_at).total_seconds()), 3)


def _moment(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment
