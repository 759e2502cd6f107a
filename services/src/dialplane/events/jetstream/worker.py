"""Competing command workers on a JetStream work-queue stream.

Each queue has one durable pull consumer per key bucket, shared by every worker of the queue, with
``max_ack_pending=1`` and ``ack_wait`` = the lease: JetStream gives a bucket's next command to one worker
only once the previous one is acknowledged (or terminated), so commands of one key are handled one at a
time and in order. A worker that dies stops sending in-progress heartbeats; after the lease the command is
redelivered (``attempt`` = JetStream's delivery count).

The outbox row stays in ``commands`` (marked relayed) until a worker handles it: the handler runs in a
transaction that first locks the row and deletes it with the handler's writes. A command delivered again
after a commit whose ack was lost finds no row and is only acknowledged, and a redelivery racing a slow
first worker waits on the row lock: the handler's database effects happen once, as on PostgreSQL. A
handler that raises rolls back; the command is negatively acknowledged with a backoff, and after
``max_attempts`` it moves to ``dead_commands``.
"""

from __future__ import annotations

import asyncio

import structlog
from nats.aio.msg import Msg
from sqlalchemy import text

from dialplane.db import SessionFactory, transaction
from dialplane.events.jetstream.connection import BucketConsumer, NatsConnection, PullLoops, in_progress
from dialplane.events.jetstream.layout import decode_command
from dialplane.events.pg_worker import COMMANDS_HANDLED
from dialplane.events.types import Command, CommandHandler

log = structlog.get_logger(__name__)

# A relayed command may arrive before the relay's transaction (which marks the row) commits: any row counts.
_LOCK_ROW = text("SELECT true FROM commands WHERE id = :id FOR UPDATE")
_DELETE = text("DELETE FROM commands WHERE id = :id")
_RECORD_FAILURE = text("UPDATE commands SET attempts = :attempts, last_error = :error WHERE id = :id")
_DEAD_LETTER = text(
    """
    WITH moved AS (DELETE FROM commands WHERE id = :id RETURNING *)
    INSERT INTO dead_commands (id, queue, key, type, data, created_at, attempts, last_error)
    SELECT id, queue, key, type, data, created_at, :attempts, :error FROM moved
    """
)


class JetStreamWorker:
    """Takes commands of one queue and runs up to ``concurrency`` handlers at once."""

    def __init__(
        self,
        sessions: SessionFactory,
        connection: NatsConnection,
        queue: str,
        handler: CommandHandler,
        *,
        concurrency: int,
        lease_seconds: float,
        max_attempts: int,
        fetch_timeout: float,
    ) -> None:
        self.name = f"worker:{queue}"
        self.queue = queue
        self._sessions = sessions
        self._connection = connection
        self._handler = handler
        self._lease = lease_seconds
        self._max_attempts = max_attempts
        self._slots = asyncio.Semaphore(concurrency)
        self._loops = PullLoops(fetch_timeout)

    def stop(self) -> None:
        self._loops.stopping = True

    async def run(self) -> None:
        layout = self._connection.layout
        consumers = [
            BucketConsumer(
                stream=layout.commands_stream,
                durable=layout.worker_consumer(self.queue, bucket),
                subject=layout.command_subject(self.queue, bucket),
                ack_wait=self._lease,
                max_deliver=self._max_attempts + 1,
            )
            for bucket in range(layout.buckets)
        ]
        await self._loops.run(self._connection.js, consumers, self._process)

    async def _process(self, message: Msg, _consumer: BucketConsumer) -> None:
        command = decode_command(message.data, attempt=message.metadata.num_delivered or 1)
        with structlog.contextvars.bound_contextvars(command_id=command.id, command_type=command.type):
            if command.attempt > self._max_attempts:
                await self._dead_letter(command, "attempts exhausted (worker lost or lease expired)")
                await message.ack()
                return
            async with in_progress(message, self._lease), self._slots:
                try:
                    await self._handle_and_delete(command)
                except Exception as exc:
                    await self._after_failure(message, command, exc)
                    return
            await message.ack()
            COMMANDS_HANDLED.labels(self.queue, "ack").inc()

    async def _handle_and_delete(self, command: Command) -> None:
        async with transaction(self._sessions) as session:
            if not await session.scalar(_LOCK_ROW, {"id": command.id}):
                log.info("command_already_handled", queue=self.queue)
                return
            await self._handler(session, command)
            await session.execute(_DELETE, {"id": command.id})

    async def _after_failure(self, message: Msg, command: Command, exc: Exception) -> None:
        error = repr(exc)[:2000]
        if command.attempt >= self._max_attempts:
            await self._dead_letter(command, error)
            await message.ack()
            return
        COMMANDS_HANDLED.labels(self.queue, "retry").inc()
        delay = min(0.1 * 2 ** (command.attempt - 1), 60.0)
        log.warning("command_failed", queue=self.queue, attempt=command.attempt, retry_in=delay, error=error)
        async with transaction(self._sessions) as session:
            params = {"id": command.id, "attempts": command.attempt, "error": error}
            await session.execute(_RECORD_FAILURE, params)
        await message.nak(delay=delay)

    async def _dead_letter(self, command: Command, error: str) -> None:
        COMMANDS_HANDLED.labels(self.queue, "dead_letter").inc()
        log.error("command_dead_lettered", queue=self.queue, attempts=command.attempt, error=error)
        async with transaction(self._sessions) as session:
            params = {"id": command.id, "attempts": command.attempt, "error": error}
            await session.execute(_DEAD_LETTER, params)
