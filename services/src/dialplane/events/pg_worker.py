"""Competing command workers on PostgreSQL.

A worker claims commands with ``FOR UPDATE SKIP LOCKED`` and gives each a lease (a token and an expiry);
only the oldest command of each key can be claimed, so commands of one key are handled one at a time and
in order. The handler runs in its own transaction, and the command is deleted (acknowledged) in that same
transaction, but only if the lease is still ours. While the handler runs, a heartbeat extends the lease.
A worker that dies stops renewing: the lease expires and another worker takes the command. A handler that
raises releases the command for a later attempt with backoff; after ``max_attempts`` it moves to
``dead_commands``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy import text

from dialplane.claiming import ClaimLoop
from dialplane.db import SessionFactory, transaction
from dialplane.events.types import Command, CommandHandler
from dialplane.events.wakeup import COMMANDS_CHANNEL, Listener
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

COMMANDS_HANDLED = Counter(
    "event_stream_commands_total",
    "Commands handled, by queue and outcome (ack, retry, dead_letter).",
    ["queue", "outcome"],
    namespace=NAMESPACE,
)

_CLAIM = text(
    """
    WITH candidate AS (
        SELECT c.id FROM commands c
        WHERE c.queue = :queue AND c.available_at <= clock_timestamp()
          AND (c.lease_expires_at IS NULL OR c.lease_expires_at < clock_timestamp())
          AND c.id = (  -- the key's oldest command: one index probe, whatever the table's statistics say
              SELECT e.id FROM commands e WHERE e.queue = c.queue AND e.key = c.key ORDER BY e.id LIMIT 1)
        ORDER BY c.id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE commands c
    SET attempts = c.attempts + 1, lease_token = :token,
        lease_expires_at = clock_timestamp() + make_interval(secs => :lease)
    FROM candidate WHERE c.id = candidate.id
    RETURNING c.id, c.queue, c.key, c.type, c.data, c.created_at, c.attempts
    """
)
_ACK = text("DELETE FROM commands WHERE id = :id AND lease_token = :token")
_RENEW = text(
    "UPDATE commands SET lease_expires_at = clock_timestamp() + make_interval(secs => :lease)"
    " WHERE id = :id AND lease_token = :token"
)
_RELEASE = text(
    """
    UPDATE commands SET lease_token = NULL, lease_expires_at = NULL, last_error = :error,
        available_at = clock_timestamp() + make_interval(secs => :delay)
    WHERE id = :id AND lease_token = :token
    """
)
_DEAD_LETTER = text(
    """
    WITH moved AS (DELETE FROM commands WHERE id = :id AND lease_token = :token RETURNING *)
    INSERT INTO dead_commands (id, queue, key, type, data, created_at, attempts, last_error)
    SELECT id, queue, key, type, data, created_at, attempts, :error FROM moved
    """
)


class LeaseLostError(Exception):
    """Another worker took the command after our lease expired; our work is rolled back."""


class PostgresWorker:
    """Takes commands of one queue and runs up to ``concurrency`` handlers at once."""

    def __init__(
        self,
        sessions: SessionFactory,
        listener: Listener,
        queue: str,
        handler: CommandHandler,
        *,
        concurrency: int,
        lease_seconds: float,
        max_attempts: int,
        poll_interval: float,
    ) -> None:
        self.name = f"worker:{queue}"
        self.queue = queue
        self._sessions = sessions
        self._listener = listener
        self._handler = handler
        self._lease = lease_seconds
        self._max_attempts = max_attempts
        self._loop = ClaimLoop(
            self._claim_safely,
            lambda claimed: self._process(*claimed),
            concurrency=concurrency,
            poll_interval=poll_interval,
        )

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        with self._listener.registered(COMMANDS_CHANNEL, [self.queue], self._loop.signal):
            await self._loop.run()

    async def _claim_safely(self, limit: int) -> list[tuple[Command, str]]:
        try:
            return await self.claim(limit)
        except Exception:
            log.exception("command_claim_failed", queue=self.queue)
            return []

    async def claim(self, limit: int) -> list[tuple[Command, str]]:
        """Lease up to ``limit`` commands; returns ``(command, lease token)`` pairs."""
        token = uuid.uuid4().hex
        async with transaction(self._sessions) as session:
            rows = (
                (
                    await session.execute(
                        _CLAIM,
                        {"queue": self.queue, "limit": limit, "token": token, "lease": self._lease},
                    )
                )
                .mappings()
                .all()
            )
        commands = sorted((_command(row) for row in rows), key=lambda c: c.id)
        return [(command, token) for command in commands]

    async def _process(self, command: Command, token: str) -> None:
        with structlog.contextvars.bound_contextvars(command_id=command.id, command_type=command.type):
            if command.attempt > self._max_attempts:
                await self._dead_letter(command, token, "attempts exhausted (worker lost or lease expired)")
                return
            heartbeat = asyncio.create_task(self._keep_lease(command, token))
            try:
                await self._handle_and_ack(command, token)
                COMMANDS_HANDLED.labels(self.queue, "ack").inc()
            except LeaseLostError:
                log.warning("command_lease_lost", queue=self.queue)
            except Exception as exc:
                await self._after_failure(command, token, exc)
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat

    async def _handle_and_ack(self, command: Command, token: str) -> None:
        async with transaction(self._sessions) as session:
            await self._handler(session, command)
            result: Any = await session.execute(_ACK, {"id": command.id, "token": token})
            if result.rowcount != 1:
                raise LeaseLostError(command.id)

    async def _after_failure(self, command: Command, token: str, exc: Exception) -> None:
        error = repr(exc)[:2000]
        if command.attempt >= self._max_attempts:
            await self._dead_letter(command, token, error)
            return
        COMMANDS_HANDLED.labels(self.queue, "retry").inc()
        delay = min(0.1 * 2 ** (command.attempt - 1), 60.0)
        log.warning("command_failed", queue=self.queue, attempt=command.attempt, retry_in=delay, error=error)
        async with transaction(self._sessions) as session:
            await session.execute(
                _RELEASE, {"id": command.id, "token": token, "error": error, "delay": delay}
            )

    async def _dead_letter(self, command: Command, token: str, error: str) -> None:
        COMMANDS_HANDLED.labels(self.queue, "dead_letter").inc()
        log.error("command_dead_lettered", queue=self.queue, attempts=command.attempt, error=error)
        async with transaction(self._sessions) as session:
            await session.execute(_DEAD_LETTER, {"id": command.id, "token": token, "error": error})

    async def _keep_lease(self, command: Command, token: str) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                async with transaction(self._sessions) as session:
                    result: Any = await session.execute(
                        _RENEW, {"id": command.id, "token": token, "lease": self._lease}
                    )
                if result.rowcount != 1:
                    log.warning("command_lease_not_renewed", queue=self.queue)
                    return
            except Exception:
                log.exception("command_lease_renewal_failed", queue=self.queue)


def _command(row: Any) -> Command:
    return Command(
        id=row["id"],
        queue=row["queue"],
        key=row["key"],
        type=row["type"],
        data=row["data"],
        created_at=row["created_at"],
        attempt=row["attempts"],
    )
