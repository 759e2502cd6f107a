"""The event stream between Dialplane services (see :mod:`dialplane.events.interface` for the contract)."""

from dialplane.events.interface import EventStream, LiveView, Runner, StartFrom
from dialplane.events.postgres import PostgresEventStream
from dialplane.events.types import (
    LAGGED,
    Command,
    CommandHandler,
    Event,
    EventFilter,
    EventHandler,
    Lagged,
    NewCommand,
    NewEvent,
)

__all__ = [
    "LAGGED",
    "Command",
    "CommandHandler",
    "Event",
    "EventFilter",
    "EventHandler",
    "EventStream",
    "Lagged",
    "LiveView",
    "NewCommand",
    "NewEvent",
    "PostgresEventStream",
    "Runner",
    "StartFrom",
]
