"""Calls: create (validated, idempotent, checked against the dial-time policy), look up, list, hang up.

Nothing here commits: the request's transaction does, at the boundary. A call is created with its first
timeline entry, its ``call.queued`` event and the bridge's ``call.originate`` command in that one
transaction, so either all of them exist or none. A call refused by the policy is stored ``failed`` (with
``refused_by`` and the reason) and nothing is sent to the bridge.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from dialer import numbers
from dialer.calls import cursor, producer, repository
from dialer.calls.intake import CallSpec, call_spec
from dialer.calls.repository import CallFilter, CallRecord, TimelineEntry
from dialer.idempotency import service as idempotency
from dialer.idempotency.service import IdempotencyKey, StoredResponse
from dialer.policy.clock import Clock
from dialer.policy.service import DialPolicy, DialRequest, Refusal
from dialer.refusals import repository as refusals
from dialer.settings import Settings
from dialplane.api.calls import CreateCallRequest, ListCallsQuery
from dialplane.calls import CallStatus
from dialplane.errors import Conflict, NotFound
from dialplane.events import EventStream
from dialplane.internal_auth import Principal
from dialplane.log import mask_number
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

CALLS_CREATED = Counter(
    "dialer_calls_created_total",
    "Calls asked for through the API, by mode and result (queued, or the rule that refused them).",
    ["mode", "result"],
    namespace=NAMESPACE,
)


@dataclass(frozen=True, slots=True)
class Responder:
    """How a route answers a created call and a refused one (the response is stored for replays)."""

    accepted: Callable[[CallRecord], StoredResponse]
    refused: Callable[[CallRecord, Refusal], StoredResponse]


@dataclass(frozen=True, slots=True)
class Idempotency:
    """The ``Idempotency-Key`` of a create request, and what identifies the request for it."""

    key: str
    route: str


@dataclass(frozen=True, slots=True)
class CallPage:
    items: list[CallRecord]
    next_cursor: str | None


class CallService:
    def __init__(self, settings: Settings, stream: EventStream, clock: Clock) -> None:
        self._settings = settings
        self._stream = stream
        self._policy = DialPolicy(settings, clock)

    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        request: CreateCallRequest,
        respond: Responder,
        idempotency_key: Idempotency | None = None,
    ) -> StoredResponse:
        """The response to a create request: the new call, a refusal, or the replay of the first response."""
        spec = call_spec(request, self._settings)
        key = None if idempotency_key is None else _key(principal, spec, idempotency_key)
        if key is not None and (replay := await idempotency.begin(session, key)) is not None:
            return replay
        call, response = await self._place(session, principal, spec, respond)
        if key is not None:
            await idempotency.finish(session, key, response, call.id)
        return response

    async def _place(
        self, session: AsyncSession, principal: Principal, spec: CallSpec, respond: Responder
    ) -> tuple[CallRecord, StoredResponse]:
        call_id = uuid.uuid4()
        refusal = await self._policy.check(session, DialRequest(spec.to, spec.lead_timezone))
        if refusal is not None:
            call = await self._record_refusal(session, call_id, principal, spec, refusal)
            return call, respond.refused(call, refusal)
        row = spec.row(call_id, principal.id, CallStatus.QUEUED)
        call = await queue_new_call(session, self._stream, row)
        return call, respond.accepted(call)

    async def _record_refusal(
        self,
        session: AsyncSession,
        call_id: uuid.UUID,
        principal: Principal,
        spec: CallSpec,
        refusal: Refusal,
    ) -> CallRecord:
        row = spec.row(call_id, principal.id, CallStatus.FAILED)
        reason = f"refused by policy ({refusal.rule}): {refusal.reason}"
        row.update(refused_by=refusal.rule, failure_reason=reason)
        call = await repository.insert_call(session, row, ended=True)
        details = {"refused_by": refusal.rule, "failure_reason": reason}
        await repository.add_timeline_entry(
            session, call.id, CallStatus.FAILED, call.ended_at or call.created_at, details
        )
        await refusals.record(
            session,
            rule=refusal.rule,
            reason=refusal.reason,
            number=call.to_number,
            campaign_id=call.campaign_id,
            lead_id=call.lead_id,
            call_id=call.id,
        )
        CALLS_CREATED.labels(call.mode, refusal.rule).inc()
        log.info("call_refused", call_id=str(call.id), to=mask_number(call.to_number), rule=refusal.rule)
        return call

    async def get(self, session: AsyncSession, call_id: uuid.UUID) -> CallRecord:
        call = await repository.get(session, call_id)
        if call is None:
            raise NotFound(f"no call with id {call_id}", code="call_not_found")
        return call

    async def list_calls(self, session: AsyncSession, query: ListCallsQuery) -> CallPage:
        where = CallFilter(
            statuses=query.status or (),
            to_number=numbers.called_number(query.to, "to") if query.to else None,
            created_after=query.created_after,
            created_before=query.created_before,
            before=cursor.decode(query.cursor) if query.cursor else None,
        )
        calls = await repository.list_calls(session, where, query.limit + 1)
        page, more = calls[: query.limit], len(calls) > query.limit
        next_cursor = cursor.encode(page[-1].created_at, page[-1].id) if more else None
        return CallPage(page, next_cursor)

    async def hangup(self, session: AsyncSession, call_id: uuid.UUID) -> CallRecord:
        """Ask the bridge to end the call; its ``call.<status>`` event will say how it ended."""
        call = await repository.get(session, call_id, lock=True)
        if call is None:
            raise NotFound(f"no call with id {call_id}", code="call_not_found")
        if call.status.is_terminal:
            raise Conflict(f"the call has already ended ({call.status.value})", code="call_ended")
        await producer.request_hangup(self._stream, session, call)
        log.info("call_hangup_requested", call_id=str(call.id), status=call.status.value)
        return call

    async def timeline(self, session: AsyncSession, call_id: uuid.UUID) -> list[TimelineEntry]:
        await self.get(session, call_id)
        return await repository.timeline(session, call_id)


async def queue_new_call(session: AsyncSession, stream: EventStream, row: dict[str, Any]) -> CallRecord:
    """Store a new call (``row``: its columns, status queued) with its first timeline entry, announce it and
    ask the bridge to dial it — all in the caller's transaction."""
    call = await repository.insert_call(session, row)
    await repository.add_timeline_entry(session, call.id, CallStatus.QUEUED, call.created_at, {})
    await producer.queue_call(stream, session, call)
    CALLS_CREATED.labels(call.mode, "queued").inc()
    log.info("call_queued", call_id=str(call.id), to=mask_number(call.to_number), mode=call.mode)
    return call


def _key(principal: Principal, spec: CallSpec, given: Idempotency) -> IdempotencyKey:
    """The key, and what the request asks for once normalised (the same call asked for in another form is
    the same request)."""
    return IdempotencyKey(principal.id, given.key, idempotency.fingerprint(given.route, asdict(spec)))
