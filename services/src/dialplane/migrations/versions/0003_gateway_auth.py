"""Gateway: users and API keys.

User names are unique regardless of case; passwords are bcrypt hashes. An API key is looked up by its public
id; only a SHA-256 of its secret is stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE users (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL,
            password_hash text NOT NULL,
            scopes text[] NOT NULL DEFAULT '{}',
            disabled boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            password_changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT users_name_not_blank CHECK (btrim(name) <> '')
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX users_name_unique ON users (lower(name))")
    op.execute(
        """
        CREATE TABLE api_keys (
            id text PRIMARY KEY,
            name text NOT NULL,
            secret_hash text NOT NULL,
            scopes text[] NOT NULL DEFAULT '{}',
            rate_limit_per_minute integer NOT NULL,
            disabled boolean NOT NULL DEFAULT false,
            created_by text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            last_used_at timestamptz,
            rotated_at timestamptz,
            CONSTRAINT api_keys_rate_limit_positive CHECK (rate_limit_per_minute > 0)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE api_keys")
    op.execute("DROP TABLE users")
