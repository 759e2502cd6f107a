"""The event stream a service uses, chosen by ``settings.event_backend``."""

from __future__ import annotations

from dialplane.db import SessionFactory
from dialplane.events.interface import EventStream
from dialplane.events.jetstream.stream import JetStreamEventStream
from dialplane.events.postgres import PostgresEventStream
from dialplane.settings import ServiceSettings


def create_event_stream(settings: ServiceSettings, sessions: SessionFactory) -> EventStream:
    """A (not yet started) event stream of the configured backend. Both also have ``listener``, the
    PostgreSQL LISTEN connection (the JetStream backend's relay and other wake-ups use it)."""
    if settings.event_backend == "jetstream":
        return JetStreamEventStream(
            sessions,
            settings.database_url,
            nats_url=settings.nats_url,
            prefix=settings.nats_stream_prefix,
            poll_interval=settings.event_poll_interval_seconds,
        )
    return PostgresEventStream(
        sessions, settings.database_url, poll_interval=settings.event_poll_interval_seconds
    )
