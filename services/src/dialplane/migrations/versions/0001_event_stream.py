"""Event stream: events, consumer group positions, commands and their dead letters.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
            stream text NOT NULL,
            key text NOT NULL,
            type text NOT NULL,
            data jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """
    )
    op.execute("CREATE INDEX events_position ON events (tx_id, id)")
    op.execute("CREATE INDEX events_stream_key ON events (stream, key, tx_id)")
    op.execute(
        """
        CREATE TABLE event_consumer_groups (
            group_name text PRIMARY KEY,
            tx_id xid8 NOT NULL,
            event_id bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE event_dead_letters (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            group_name text NOT NULL,
            event_id bigint NOT NULL,
            error text NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE commands (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            queue text NOT NULL,
            key text NOT NULL,
            type text NOT NULL,
            data jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            available_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            attempts integer NOT NULL DEFAULT 0,
            lease_token text,
            lease_expires_at timestamptz,
            last_error text
        )
        """
    )
    op.execute("CREATE INDEX commands_ready ON commands (queue, id)")
    op.execute("CREATE INDEX commands_by_key ON commands (queue, key, id)")
    op.execute(
        """
        CREATE TABLE dead_commands (
            id bigint PRIMARY KEY,
            queue text NOT NULL,
            key text NOT NULL,
            type text NOT NULL,
            data jsonb NOT NULL,
            created_at timestamptz NOT NULL,
            attempts integer NOT NULL,
            last_error text,
            failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """
    )


def downgrade() -> None:
    for table in (
        "dead_commands",
        "commands",
        "event_dead_letters",
        "event_consumer_groups",
        "events",
    ):
        op.execute(f"DROP TABLE {table}")
