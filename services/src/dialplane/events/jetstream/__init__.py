"""The NATS JetStream backend of the event stream (PostgreSQL outbox + relay; see :mod:`.stream`)."""

from dialplane.events.jetstream.factory import create_event_stream
from dialplane.events.jetstream.stream import JetStreamEventStream

__all__ = ["JetStreamEventStream", "create_event_stream"]
