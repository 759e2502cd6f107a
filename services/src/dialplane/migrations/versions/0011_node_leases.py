"""Node leases: which ari-bridge process drives which Asterisk node, and which bridges are alive.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE node_leases (
            node text PRIMARY KEY,
            owner text NOT NULL,
            acquired_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            expires_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE bridge_members (
            instance text PRIMARY KEY,
            expires_at timestamptz NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE bridge_members")
    op.execute("DROP TABLE node_leases")
