"""ARI bridge: where an answered IVR call is sent in the dialplan (context, extension, priority).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE bridge_calls ADD COLUMN dialplan jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE bridge_calls DROP COLUMN dialplan")
