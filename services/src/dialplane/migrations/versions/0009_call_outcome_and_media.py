"""Dialer: a call's outcome is what the AI agent concluded (one of the conversation outcomes), with the
conversation's one-line summary.

``calls.outcome`` was a placeholder (jsonb, never written); it becomes text with the outcomes of
``conversations.outcome`` (0008).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE calls ALTER COLUMN outcome TYPE text USING outcome->>'outcome'")
    op.execute(
        """
        ALTER TABLE calls ADD CONSTRAINT calls_outcome_known CHECK (outcome IN (
            'meeting_booked', 'interested', 'not_interested', 'callback_requested', 'voicemail',
            'opted_out', 'transferred', 'no_conversation'))
        """
    )
    op.execute("ALTER TABLE calls ADD COLUMN summary text")


def downgrade() -> None:
    op.execute("ALTER TABLE calls DROP COLUMN summary")
    op.execute("ALTER TABLE calls DROP CONSTRAINT calls_outcome_known")
    op.execute(
        "ALTER TABLE calls ALTER COLUMN outcome TYPE jsonb USING jsonb_build_object('outcome', outcome)"
    )
