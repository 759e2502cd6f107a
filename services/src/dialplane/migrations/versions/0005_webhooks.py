"""Dialer: webhook deliveries and their attempts.

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
    op.execute("SELECT 1")  # placeholder: filled in by the work on this part


def downgrade() -> None:
    op.execute("SELECT 1")
