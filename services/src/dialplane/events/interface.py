"""The event-stream interface every backend implements.

Callers depend on :class:`EventStream` only, so a second backend (NATS JetStream, with a PostgreSQL outbox
for the transactional write) can be chosen by configuration without touching them.

Guarantees, whatever the backend:

* ``publish``/``send`` write in the caller's transaction: no event without its state change and no state
  change without its event;
* each consumer *group* sees every event of its streams at least once, in publish order per key, and
  resumes from its stored position after a restart;
* each command is taken by one worker at a time; a command not acknowledged (worker died, handler
  raised, lease expired) goes back to the queue; commands with the same key are handled one at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.events.types import (
    CommandHandler,
    Event,
    EventFilter,
    EventHandler,
    Lagged,
    NewCommand,
    NewEvent,
)

StartFrom = Literal["earliest", "latest"]


class Runner(Protocol):
    """A long-running consumer or worker; ``run()`` returns once ``stop()`` has been called."""

    name: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...


class LiveView(Runner, Protocol):
    """Events committed while subscribed, fanned out in-process (live views such as server-sent events)."""

    def subscribe(self, accepts: EventFilter = ...) -> AsyncIterator[Event | Lagged]:
        """Events accepted by ``accepts`` from now on, in delivery order; ends with ``LAGGED`` if the
        subscriber falls too far behind."""


class EventStream(Protocol):
    async def publish(self, session: AsyncSession, *events: NewEvent) -> None:
        """Add events to the caller's transaction."""

    async def send(self, session: AsyncSession, *commands: NewCommand) -> None:
        """Add commands to the caller's transaction."""

    def consumer(
        self,
        group: str,
        streams: Sequence[str],
        handler: EventHandler,
        *,
        start_from: StartFrom = "earliest",
        batch_size: int = 100,
        max_attempts: int = 10,
    ) -> Runner:
        """A runner delivering ``streams`` to ``handler`` for consumer group ``group``; an event whose
        handler failed ``max_attempts`` times is dead-lettered and the group moves on.

        ``start_from`` matters only when the group is new: ``earliest`` delivers the whole history,
        ``latest`` everything not certainly committed before the group existed (it never misses a later
        event, and may deliver a few that committed just before)."""

    def live(self, streams: Sequence[str]) -> LiveView:
        """A runner for live subscribers of ``streams`` (nothing stored, nothing from before)."""

    def worker(
        self,
        queue: str,
        handler: CommandHandler,
        *,
        concurrency: int = 1,
        lease_seconds: float = 30.0,
        max_attempts: int = 10,
    ) -> Runner:
        """A runner taking commands of ``queue`` and handing each to ``handler``."""

    async def start(self) -> None:
        """Open connections (e.g. the wake-up listener)."""

    async def close(self) -> None:
        """Release connections; runners should be stopped first."""
