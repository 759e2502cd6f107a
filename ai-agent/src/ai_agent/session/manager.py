"""The ai-agent's side of the event stream: which calls will need an agent, and taking them.

* Worker of the ``ai-agent`` queue: ``agent.prepare`` (sent by the dialer with the queued agent call) records
  a ``pending`` conversation (its profile, lead and number); ``agent.converse`` (sent by the bridge once the
  call is answered and its media channel waits) starts the conversation — if this process has room
  (``max_conversations``; otherwise the command goes back to the queue for another agent) — and runs it
  as a task.
* Consumer of the ``calls`` stream: a call that ends without ever reaching an agent ends its conversation.

The process's capacity (``max_conversations``, and how many run) is what it reports in
``capacity_reports`` (:meth:`ConversationManager.capacity_report`; see :mod:`dialplane.capacity`);
``on_change`` is called whenever a conversation starts or ends, so the report is refreshed at once.

When a conversation ends, its outcome and summary are stored and ``conversation.ended`` is published in
the same transaction; an opt-out is published at once (``conversation.opted_out``), so the number is on the
do-not-call list before the call has even ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from ai_agent.conversations import repository as conversations
from ai_agent.session import metrics
from ai_agent.session.runner import CallRunner, ConverseRequest
from dialplane.calls import CALLS_STREAM, CONVERSE, PREPARE, CallStatus
from dialplane.capacity import AGENT_RESOURCE, CapacityReport
from dialplane.events import Command, Event

log = structlog.get_logger(__name__)

CONSUMER_GROUP = "ai-agent-calls"


class AgentAtCapacityError(Exception):
    """This process holds as many conversations as it may: the command is retried later (by any agent)."""


class QueuedCall(BaseModel):
    id: uuid.UUID
    to: str
    mode: str
    agent: dict[str, Any] | None = None


class ConversationManager:
    def __init__(
        self, runner: CallRunner, *, max_conversations: int, on_change: Callable[[], None] = lambda: None
    ) -> None:
        self._runner = runner
        self._max = max_conversations
        self._on_change = on_change
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def active(self) -> int:
        return len(self._tasks)

    @property
    def free(self) -> int:
        return self._max - self.active

    def capacity_report(self) -> list[CapacityReport]:
        return [CapacityReport(AGENT_RESOURCE, capacity=self._max, in_use=self.active)]

    async def on_call_event(self, session: AsyncSession, event: Event) -> None:
        """Consumer handler of the ``calls`` stream."""
        if event.stream != CALLS_STREAM:
            return
        if event.type.removeprefix("call.") in {s.value for s in CallStatus if s.is_terminal}:
            await self._runner.end_unstarted(session, event.key, event.type.removeprefix("call."))

    async def _prepare(self, session: AsyncSession, data: Mapping[str, Any]) -> None:
        call = QueuedCall.model_validate(data)
        if call.mode != "agent":
            return
        agent = call.agent or {}
        await conversations.create_pending(
            session,
            call_id=call.id,
            profile=str(agent.get("profile") or "default"),
            to_number=call.to,
            lead=agent.get("lead") or {},
            variables=agent.get("variables") or {},
        )

    async def on_command(self, session: AsyncSession, command: Command) -> None:
        """Worker handler of the ``ai-agent`` queue."""
        if command.type == PREPARE:
            await self._prepare(session, command.data)
            return
        if command.type != CONVERSE:
            log.warning("command_unknown", command_type=command.type)
            return
        request = ConverseRequest.model_validate(command.data)
        if request.call_id in self._tasks:
            return  # a redelivery while the conversation runs here
        if self.free <= 0:
            raise AgentAtCapacityError(f"{self.active} conversations already")
        record = await self._runner.claim(session, request)
        if record is None:
            return
        task = asyncio.create_task(self._run(request, record))
        self._tasks[request.call_id] = task
        self._on_change()

    async def _run(self, request: ConverseRequest, record: conversations.ConversationRecord) -> None:
        metrics.ACTIVE.inc()
        try:
            with structlog.contextvars.bound_contextvars(call_id=request.call_id):
                await self._runner.run(request, record)
        finally:
            metrics.ACTIVE.dec()
            self._tasks.pop(request.call_id, None)
            self._on_change()

    async def stop(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
