"""AI agent: the built-in calendar's meetings.

No double booking is enforced here, not in Python: an exclusion constraint refuses two meetings of one
calendar that hold overlapping time while they are scheduled or confirmed — also when two calls insert at
the same moment (the second insert waits for the first transaction, then fails with SQLSTATE 23P01). The
time a meeting holds is ``[start_at, blocked_until)``, where ``blocked_until`` is its end plus the calendar's
buffer when it was booked: a stored column because ``timestamptz + interval`` is not immutable, so it cannot
appear in an index expression. Cancelled, completed and no-show meetings hold no time.

``btree_gist`` (for ``calendar WITH =`` in a GiST index) is a trusted extension since PostgreSQL 13: the
database's owner may create it without being a superuser.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        """
        CREATE TABLE meetings (
            id uuid PRIMARY KEY,
            calendar text NOT NULL,
            start_at timestamptz NOT NULL,
            end_at timestamptz NOT NULL,
            blocked_until timestamptz NOT NULL,
            status text NOT NULL DEFAULT 'scheduled',
            attendee_name text NOT NULL,
            attendee_email text,
            attendee_phone text,
            title text NOT NULL,
            description text,
            link text,
            call_id text,
            time_zone text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT meetings_status_known CHECK (status IN (
                'scheduled', 'confirmed', 'cancelled', 'completed', 'no_show')),
            CONSTRAINT meetings_ends_after_start CHECK (end_at > start_at),
            CONSTRAINT meetings_blocked_through_end CHECK (blocked_until >= end_at),
            CONSTRAINT meetings_no_overlap EXCLUDE USING gist (
                calendar WITH =, tstzrange(start_at, blocked_until) WITH &&
            ) WHERE (status IN ('scheduled', 'confirmed'))
        )
        """
    )
    op.execute("CREATE INDEX meetings_calendar_start ON meetings (calendar, start_at)")
    op.execute("CREATE INDEX meetings_call ON meetings (call_id, start_at) WHERE call_id IS NOT NULL")


def downgrade() -> None:
    # btree_gist stays: it may have existed before 0007, and other objects may use it.
    op.execute("DROP TABLE meetings")
