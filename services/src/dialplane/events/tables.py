"""Tables of the PostgreSQL event-stream backend (created by migration 0001)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Identity, Integer, MetaData, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    # tx_id (xid8, default pg_current_xact_id()) is left out on purpose: the database fills it in and
    # it is only ever read through hand-written SQL.
    Column("stream", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
)

commands = Table(
    "commands",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("queue", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    Column("available_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lease_token", Text),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("last_error", Text),
)
