"""Tables of the dialer (created by migrations 0004 and 0010), for typed SQL in the repositories."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Identity,
    Integer,
    LargeBinary,
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
    Column("campaign_id", Uuid),
    Column("lead_id", Uuid),
    Column("abandoned", Boolean, nullable=False, server_default="false"),
    Column("agent_audio_delay_seconds", Float),
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
    Column("created_by", Text),
    _timestamp("created_at", required=True),
    _timestamp("expires_at"),
)

leads = Table(
    "leads",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("phone", Text, nullable=False, unique=True),
    Column("name", Text),
    Column("email", Text),
    Column("timezone", Text),
    Column("language", Text),
    Column("consent", Boolean, nullable=False, server_default="false"),
    Column("consent_source", Text),
    _timestamp("consent_at"),
    Column("partner", Text),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("custom_fields", JSONB, nullable=False, server_default="{}"),
    Column("created_by", Text, nullable=False),
    Column("import_id", Uuid),
    _timestamp("created_at", required=True),
    _timestamp("updated_at", required=True),
)

lead_imports = Table(
    "lead_imports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("created_by", Text, nullable=False),
    Column("filename", Text),
    Column("status", Text, nullable=False, server_default="receiving"),
    Column("bytes_total", BigInteger, nullable=False, server_default="0"),
    Column("chunks_total", Integer, nullable=False, server_default="0"),
    Column("lines_done", Integer, nullable=False, server_default="0"),
    Column("rows_done", Integer, nullable=False, server_default="0"),
    Column("rows_created", Integer, nullable=False, server_default="0"),
    Column("rows_merged", Integer, nullable=False, server_default="0"),
    Column("rows_failed", Integer, nullable=False, server_default="0"),
    Column("campaign_id", Uuid),
    Column("error", Text),
    Column("claimed_by", Text),
    _timestamp("lease_until"),
    _timestamp("created_at", required=True),
    _timestamp("started_at"),
    _timestamp("finished_at"),
)

lead_import_chunks = Table(
    "lead_import_chunks",
    metadata,
    Column("import_id", Uuid, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

lead_import_errors = Table(
    "lead_import_errors",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("import_id", Uuid, nullable=False),
    Column("line", Integer, nullable=False),
    Column("field", Text),
    Column("message", Text, nullable=False),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="draft"),
    Column("status_reason", Text),
    Column("agent_profile", Text, nullable=False, server_default="default"),
    Column("caller_id", Text),
    Column("lead_filter", JSONB(none_as_null=True)),
    Column("schedule", JSONB, nullable=False),
    Column("max_concurrent_calls", Integer, nullable=False),
    Column("calls_per_second", Float, nullable=False),
    Column("retry_policy", JSONB, nullable=False),
    Column("attempt_cap", Integer, nullable=False),
    Column("attempt_window_seconds", Integer, nullable=False),
    Column("require_consent", Boolean, nullable=False, server_default="false"),
    Column("abandon_rate_limit", Float, nullable=False),
    Column("ring_timeout_seconds", Integer),
    Column("machine_detection", Boolean, nullable=False, server_default="true"),
    _timestamp("next_dial_at"),
    Column("created_by", Text, nullable=False),
    _timestamp("created_at", required=True),
    _timestamp("updated_at", required=True),
    _timestamp("started_at"),
    _timestamp("ended_at"),
)

campaign_leads = Table(
    "campaign_leads",
    metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("lead_id", Uuid, primary_key=True),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _timestamp("next_attempt_at"),
    Column("call_id", Uuid),
    Column("last_result", Text),
    _timestamp("callback_at"),
    _timestamp("created_at", required=True),
    _timestamp("updated_at", required=True),
)

dial_refusals = Table(
    "dial_refusals",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("campaign_id", Uuid),
    Column("lead_id", Uuid),
    Column("call_id", Uuid),
    Column("number", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("reason", Text, nullable=False),
    _timestamp("at", required=True),
)

capacity_reports = Table(
    "capacity_reports",
    metadata,
    Column("resource", Text, primary_key=True),
    Column("instance", Text, primary_key=True),
    Column("capacity", Integer, nullable=False),
    Column("in_use", Integer, nullable=False),
    _timestamp("seen_at", required=True),
)
