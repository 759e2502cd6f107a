"""Where things live on JetStream: stream names, subjects, consumer names, key buckets, message bodies.

Two streams per prefix:

* ``<PREFIX>_EVENTS`` (limits retention, so a new group can start from the earliest event) with subjects
  ``<prefix>.events.<stream>.<bucket>``;
* ``<PREFIX>_COMMANDS`` (work-queue retention: a command is removed once acknowledged) with subjects
  ``<prefix>.commands.<queue>.<bucket>``.

A key always maps to the same bucket (a stable hash), and every consumer reads one bucket of one stream or
queue with ``max_ack_pending=1``. JetStream therefore hands out a bucket's messages one at a time, in stream
order, across all processes: that is the per-key order (and the one-at-a-time per key of commands).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dialplane.events.types import Command, Event

_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_BUCKETS = 16


def token(name: str) -> str:
    """``name`` as one subject token / consumer-name part: kept if safe, else a stable hash of it."""
    if _SAFE_TOKEN.match(name):
        return name
    return "h" + hashlib.blake2b(name.encode(), digest_size=8).hexdigest()


def bucket_of(key: str, buckets: int) -> int:
    """The bucket of ``key``: stable across processes and restarts (unlike ``hash()``)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % buckets


@dataclass(frozen=True)
class Layout:
    """Names derived from one prefix; two deployments (or two tests) with other prefixes never meet."""

    prefix: str = "dialplane"
    buckets: int = DEFAULT_BUCKETS

    def __post_init__(self) -> None:
        if not _SAFE_TOKEN.match(self.prefix):
            raise ValueError(f"stream prefix {self.prefix!r}: use letters, digits, '-' or '_'")
        if not 1 <= self.buckets <= 1024:
            raise ValueError("buckets must be between 1 and 1024")

    @property
    def events_stream(self) -> str:
        return f"{self.prefix.upper()}_EVENTS"

    @property
    def commands_stream(self) -> str:
        return f"{self.prefix.upper()}_COMMANDS"

    @property
    def all_events(self) -> str:
        return f"{self.prefix}.events.>"

    @property
    def all_commands(self) -> str:
        return f"{self.prefix}.commands.>"

    def stream_events(self, stream: str) -> str:
        """The subjects of every bucket of ``stream``."""
        return f"{self.prefix}.events.{token(stream)}.*"

    def event_subject(self, stream: str, bucket: int) -> str:
        return f"{self.prefix}.events.{token(stream)}.{bucket}"

    def command_subject(self, queue: str, bucket: int) -> str:
        return f"{self.prefix}.commands.{token(queue)}.{bucket}"

    def group_consumer(self, group: str, stream: str, bucket: int) -> str:
        return f"g-{token(group)}-{token(stream)}-{bucket}"

    def worker_consumer(self, queue: str, bucket: int) -> str:
        return f"q-{token(queue)}-{bucket}"


def event_message_id(tx_id: int, event_id: int) -> str:
    """The ``Nats-Msg-Id`` of an event row: the same for every relay of that row, unique per database."""
    return f"event:{tx_id}:{event_id}"


def command_message_id(command_id: int, created_at: datetime) -> str:
    """The ``Nats-Msg-Id`` of a command row (``created_at`` tells apart rows of a restarted identity)."""
    return f"command:{command_id}:{created_at.isoformat()}"


def encode_event_row(row: Any) -> bytes:
    return json.dumps(
        {
            "id": row["id"],
            "tx_id": int(row["tx_id"]),
            "stream": row["stream"],
            "key": row["key"],
            "type": row["type"],
            "data": row["data"],
            "created_at": row["created_at"].isoformat(),
        }
    ).encode()


@dataclass(frozen=True, slots=True)
class RelayedEvent:
    """An event as it travels on JetStream, with the ``tx_id`` its consumer position needs."""

    event: Event
    tx_id: int


def decode_event(payload: bytes) -> RelayedEvent:
    body = json.loads(payload)
    event = Event(
        id=body["id"],
        stream=body["stream"],
        key=body["key"],
        type=body["type"],
        data=body["data"],
        created_at=datetime.fromisoformat(body["created_at"]),
        position=f"{body['tx_id']}:{body['id']}",
    )
    return RelayedEvent(event, int(body["tx_id"]))


def encode_command_row(row: Any) -> bytes:
    return json.dumps(
        {
            "id": row["id"],
            "queue": row["queue"],
            "key": row["key"],
            "type": row["type"],
            "data": row["data"],
            "created_at": row["created_at"].isoformat(),
        }
    ).encode()


def decode_command(payload: bytes, attempt: int) -> Command:
    body = json.loads(payload)
    return Command(
        id=body["id"],
        queue=body["queue"],
        key=body["key"],
        type=body["type"],
        data=body["data"],
        created_at=datetime.fromisoformat(body["created_at"]),
        attempt=attempt,
    )
