"""The event stream between Dialplane services (see :mod:`dialplane.events.interface` for the contract)."""

from dialplane.events.interface import EventStream, Runner, StartFrom
from dialplane.events.postgres import PostgresEventStream
from dialplane.events.types import (
    Command,
    CommandHandler,
    Event,
    EventHandler,
    NewCommand,
    NewEvent,
)

__all__ = [
    "Command",
    "CommandHandler",
    "Event",
    "EventHandler",
    "EventStream",
    "NewCommand",
    "NewEvent",
    "PostgresEventStream",
    "Runner",
    "StartFrom",
]
