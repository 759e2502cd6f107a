"""Dialer: calls, their timeline, idempotency keys, do-not-call list.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUSES = (
    "'queued', 'dialing', 'ringing', 'answered', 'completed', 'busy', 'no_answer', 'failed', 'canceled'"
)


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE calls (
            id uuid PRIMARY KEY,
            created_by text NOT NULL,
            to_number text NOT NULL,
            from_number text,
            mode text NOT NULL,
            agent jsonb,
            ivr jsonb,
            status text NOT NULL,
            ring_timeout_seconds integer NOT NULL,
            max_duration_seconds integer,
            machine_detection boolean NOT NULL DEFAULT false,
            status_callback text,
            status_callback_events text[] NOT NULL DEFAULT '{{}}',
            metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            attempt_number integer NOT NULL DEFAULT 1,
            refused_by text,
            node text,
            trunk text,
            answered_by text,
            hangup_cause integer,
            hangup_cause_text text,
            sip_code integer,
            failure_reason text,
            duration_seconds double precision,
            outcome jsonb,
            transcript_url text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            dialed_at timestamptz,
            ringing_at timestamptz,
            answered_at timestamptz,
            ended_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT calls_status_known CHECK (status IN ({STATUSES})),
            CONSTRAINT calls_mode_known CHECK (mode IN ('agent', 'ivr')),
            CONSTRAINT calls_one_target CHECK (
                (mode = 'agent' AND agent IS NOT NULL AND ivr IS NULL)
                OR (mode = 'ivr' AND ivr IS NOT NULL AND agent IS NULL)),
            CONSTRAINT calls_refused_by_known CHECK (refused_by IN ('do_not_call', 'calling_hours')),
            CONSTRAINT calls_refused_failed CHECK (refused_by IS NULL OR status = 'failed')
        )
        """
    )
    op.execute("CREATE INDEX calls_newest ON calls (created_at DESC, id DESC)")
    op.execute("CREATE INDEX calls_by_number ON calls (to_number, created_at DESC, id DESC)")
    op.execute("CREATE INDEX calls_by_status ON calls (status, created_at DESC, id DESC)")
    op.execute("CREATE INDEX calls_refused ON calls (created_at DESC) WHERE refused_by IS NOT NULL")
    op.execute(
        f"""
        CREATE TABLE call_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
            status text NOT NULL,
            at timestamptz NOT NULL,
            details jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT call_events_status_known CHECK (status IN ({STATUSES}))
        )
        """
    )
    op.execute("CREATE INDEX call_events_by_call ON call_events (call_id, id)")
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            principal_id text NOT NULL,
            key text NOT NULL,
            request_hash text NOT NULL,
            status_code integer,
            response jsonb,
            call_id uuid REFERENCES calls (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (principal_id, key),
            CONSTRAINT idempotency_keys_key_length CHECK (length(key) BETWEEN 1 AND 255)
        )
        """
    )
    # campaign_id NULL: the global list; per-campaign lists set it (a foreign key once campaigns exist).
    op.execute(
        """
        CREATE TABLE do_not_call (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            number text NOT NULL,
            match text NOT NULL DEFAULT 'exact',
            campaign_id uuid,
            reason text,
            source text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            expires_at timestamptz,
            CONSTRAINT do_not_call_match_known CHECK (match IN ('exact', 'prefix')),
            CONSTRAINT do_not_call_number_e164 CHECK (number ~ '^\\+[0-9]{1,15}$')
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX do_not_call_entry ON do_not_call"
        " (number, match, coalesce(campaign_id, '00000000-0000-0000-0000-000000000000'::uuid))"
    )


def downgrade() -> None:
    op.execute("DROP TABLE do_not_call")
    op.execute("DROP TABLE idempotency_keys")
    op.execute("DROP TABLE call_events")
    op.execute("DROP TABLE calls")
