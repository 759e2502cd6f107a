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


def upgrade() -> None:
    op.execute("SELECT 1")  # placeholder: filled in by the work on this part


def downgrade() -> None:
    op.execute("SELECT 1")
