"""Tables of the dialer (created by migration 0004), for typed SQL in the repositories."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Identity,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()


def _timestamp(name: str, *, required: bool = False) -> Column[object]:
    default = func.clock_timestamp() if required else None
    return Column(name, DateTime(timezone=True), nullable=not required, server_default=default)


calls = Table(
    "calls",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("created_by", Text, nullable=False),
    Column("to_number", Text, nullable=False),
    Column("from_number", Text),
    Column("mode", Text, nullable=False),
    Column("agent", JSONB(none_as_null=True)),
    Column("ivr", JSONB(none_as_null=True)),
    Column("status", Text, nullable=False),
    Column("ring_timeout_seconds", Integer, nullable=False),
    Column("max_duration_seconds", Integer),
    Column("machine_detection", Boolean, nullable=False),
    Column("status_callback", Text),
    Column("status_callback_events", ARRAY(Text), nullable=False),
    Column("metadata", JSONB, nullable=False),
    Column("attempt_number", Integer, nullable=False, server_default="1"),
    Column("refused_by", Text),
    Column("node", Text),
    Column("trunk", Text),
    Column("answered_by", Text),
    Column("hangup_cause", Integer),
    Column("hangup_cause_text", Text),
    Column("sip_code", Integer),
    Column("failure_reason", Text),
    Column("duration_seconds", Float),
    Column("outcome", Text),
    Column("summary", Text),
    Column("transcript_url", Text),
    _timestamp("created_at", required=True),
    _timestamp("dialed_at"),
    _timestamp("ringing_at"),
    _timestamp("answered_at"),
    _timestamp("ended_at"),
    _timestamp("updated_at", required=True),
)

call_events = Table(
    "call_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("call_id", Uuid, nullable=False),
    Column("status", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("details", JSONB, nullable=False),
    _timestamp("created_at", required=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    Column("status_code", Integer),
    Column("response", JSONB(none_as_null=True)),
    Column("call_id", Uuid),
    _timestamp("created_at", required=True),
)

do_not_call = Table(
    "do_not_call",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("number", Text, nullable=False),
    Column("match", Text, nullable=False),
    Column("campaign_id", Uuid),
    Column("reason", Text),
    Column("source", Text),
    _timestamp("created_at", required=True),
    _timestamp("expires_at"),
)
