"""ARI bridge: the calls it places and tracks (one row per call; the channel id is the call id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE bridge_calls (
            call_id text PRIMARY KEY,
            status text NOT NULL,
            trunk text NOT NULL,
            node text,
            to_number text NOT NULL,
            caller_id text,
            ring_timeout_seconds integer NOT NULL,
            max_duration_seconds integer,
            machine_detection boolean NOT NULL DEFAULT false,
            variables jsonb NOT NULL DEFAULT '{}'::jsonb,
            hangup_requested boolean NOT NULL DEFAULT false,
            answered_by text,
            hangup_cause integer,
            hangup_cause_text text,
            sip_code integer,
            failure_reason text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            dialed_at timestamptz,
            ringing_at timestamptz,
            answered_at timestamptz,
            ended_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT bridge_calls_status_known CHECK (status IN (
                'queued', 'dialing', 'ringing', 'answered', 'completed', 'busy', 'no_answer', 'failed',
                'canceled'))
        )
        """
    )
    op.execute(
        "CREATE INDEX bridge_calls_active ON bridge_calls (node, trunk)"
        " WHERE status IN ('dialing', 'ringing', 'answered')"
    )


def downgrade() -> None:
    op.execute("DROP TABLE bridge_calls")
