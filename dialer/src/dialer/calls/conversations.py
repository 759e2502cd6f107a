"""The dialer's consumer of the AI agent's ``conversations`` stream (group ``dialer-conversations``).

* ``conversation.opted_out`` — the person asked not to be called again: the called number goes on the
  global do-not-call list at once (while the call may still be going on), so no later call reaches it.
* ``conversation.ended`` — the call gets the conversation's ``outcome``, its summary and the transcript's
  address; an opt-out is (again, idempotently) put on the do-not-call list.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls import repository
from dialer.calls.views import CALLS_PATH
from dialer.policy import do_not_call
from dialplane.api.calls import OUTCOMES
from dialplane.calls import CONVERSATION_ENDED
from dialplane.events import Event

log = structlog.get_logger(__name__)

CONSUMER_GROUP = "dialer-conversations"
OPTED_OUT = "conversation.opted_out"


async def handle(session: AsyncSession, event: Event) -> None:
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
        outcome = event.data.get("outcome")
        await repository.update_call(
            session,
            call_id,
            outcome=outcome if outcome in OUTCOMES else None,
            summary=event.data.get("summary"),
            transcript_url=f"{CALLS_PATH}/{call_id}/transcript",
        )
        log.info("call_outcome", call_id=str(call_id), outcome=outcome)
