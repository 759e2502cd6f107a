"""What travels on the event stream: events (facts, fanned out to every group) and commands (work, taken
by exactly one worker)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

JsonObject = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A fact to publish. ``key`` orders it: events with the same key are seen in publish order."""

    stream: str
    key: str
    type: str
    data: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """A published event as a consumer receives it."""

    id: int
    stream: str
    key: str
    type: str
    data: JsonObject
    created_at: datetime
    position: str
    """Opaque, backend-specific position; increases in delivery order."""


@dataclass(frozen=True, slots=True)
class NewCommand:
    """Work for exactly one worker of ``queue``. Commands with the same key are handled one at a time,
    in the order they were sent; ``delay_seconds`` holds it back before it can be taken."""

    queue: str
    key: str
    type: str
    data: JsonObject = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Command:
    """A command as a worker receives it; ``attempt`` is 1 the first time it is handed out."""

    id: int
    queue: str
    key: str
    type: str
    data: JsonObject
    created_at: datetime
    attempt: int


EventHandler = Callable[[AsyncSession, Event], Awaitable[None]]
"""Handles one event inside the consumer's transaction; the group's position moves in the same commit."""

CommandHandler = Callable[[AsyncSession, Command], Awaitable[None]]
"""Handles one command; returning acknowledges it (in the same transaction as the handler's writes),
raising sends it back to the queue for a later attempt."""


class Lagged:
    """Marker ending a live subscription: the subscriber fell too far behind and was dropped."""


LAGGED = Lagged()
EventFilter = Callable[[Event], bool]
