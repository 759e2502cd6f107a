"""Dialer: webhook deliveries and their attempts.

``call_id`` is text without a foreign key, so these tables depend on no other migration's tables.
A delivery is ``pending`` until ``delivered`` or ``failed``; the lease columns mark the runner working on
it. Every attempt (including one lost with its runner) is a row of ``webhook_attempts``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webhook_deliveries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            call_id text NOT NULL,
            url text NOT NULL,
            event_type text NOT NULL,
            payload jsonb NOT NULL,
            status text NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            lease_token text,
            leased_at timestamptz,
            lease_expires_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            delivered_at timestamptz,
            last_status_code integer,
            last_error text,
            CONSTRAINT webhook_deliveries_status_known CHECK (status IN ('pending', 'delivered', 'failed'))
        )
        """
    )
    op.execute(
        "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)"
        " WHERE status = 'pending'"
    )
    op.execute("CREATE INDEX webhook_deliveries_call ON webhook_deliveries (call_id, id)")
    op.execute(
        """
        CREATE TABLE webhook_attempts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
            attempt integer NOT NULL,
            started_at timestamptz NOT NULL,
            duration_ms integer,
            status_code integer,
            error text
        )
        """
    )
    op.execute("CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt)")


def downgrade() -> None:
    op.execute("DROP TABLE webhook_attempts")
    op.execute("DROP TABLE webhook_deliveries")
