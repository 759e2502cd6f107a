"""Campaign dialer: leads, lead imports, campaigns and their leads, dial refusals, capacity reports; calls
learn which campaign and lead they belong to and whether they were abandoned.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LEAD_STATUSES = (
    "'pending', 'queued', 'calling', 'contacted', 'meeting_scheduled', 'not_interested', 'callback', "
    "'no_answer', 'do_not_call', 'failed', 'exhausted'"
)
CAMPAIGN_STATUSES = "'draft', 'running', 'paused', 'stopped', 'completed'"
IMPORT_STATUSES = "'receiving', 'queued', 'running', 'completed', 'failed'"
RULES = "'do_not_call', 'calling_hours', 'schedule', 'consent', 'attempt_cap'"


def upgrade() -> None:
    _leads()
    _imports()
    _campaigns()
    _refusals_and_capacity()
    _calls()


def _leads() -> None:
    op.execute(
        f"""
        CREATE TABLE leads (
            id uuid PRIMARY KEY,
            phone text NOT NULL,
            name text,
            email text,
            timezone text,
            language text,
            consent boolean NOT NULL DEFAULT false,
            consent_source text,
            consent_at timestamptz,
            partner text,
            status text NOT NULL DEFAULT 'pending',
            custom_fields jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            created_by text NOT NULL,
            import_id uuid,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT leads_phone_unique UNIQUE (phone),
            CONSTRAINT leads_status_known CHECK (status IN ({LEAD_STATUSES}))
        )
        """
    )
    op.execute("CREATE INDEX leads_by_created ON leads (created_at DESC, id DESC)")
    op.execute("CREATE INDEX leads_by_status ON leads (status)")
    op.execute("CREATE INDEX leads_by_partner ON leads (partner) WHERE partner IS NOT NULL")


def _imports() -> None:
    op.execute(
        f"""
        CREATE TABLE lead_imports (
            id uuid PRIMARY KEY,
            created_by text NOT NULL,
            filename text,
            status text NOT NULL DEFAULT 'receiving',
            bytes_total bigint NOT NULL DEFAULT 0,
            chunks_total integer NOT NULL DEFAULT 0,
            lines_done integer NOT NULL DEFAULT 0,
            rows_done integer NOT NULL DEFAULT 0,
            rows_created integer NOT NULL DEFAULT 0,
            rows_merged integer NOT NULL DEFAULT 0,
            rows_failed integer NOT NULL DEFAULT 0,
            campaign_id uuid,
            error text,
            claimed_by text,
            lease_until timestamptz,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            started_at timestamptz,
            finished_at timestamptz,
            CONSTRAINT lead_imports_status_known CHECK (status IN ({IMPORT_STATUSES}))
        )
        """
    )
    op.execute(
        """
        CREATE TABLE lead_import_chunks (
            import_id uuid NOT NULL REFERENCES lead_imports (id) ON DELETE CASCADE,
            seq integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (import_id, seq)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE lead_import_errors (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            import_id uuid NOT NULL REFERENCES lead_imports (id) ON DELETE CASCADE,
            line integer NOT NULL,
            field text,
            message text NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX lead_import_errors_by_line ON lead_import_errors (import_id, line, id)")


def _campaigns() -> None:
    op.execute(
        f"""
        CREATE TABLE campaigns (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            status text NOT NULL DEFAULT 'draft',
            status_reason text,
            agent_profile text NOT NULL DEFAULT 'default',
            caller_id text,
            lead_filter jsonb,
            schedule jsonb NOT NULL,
            max_concurrent_calls integer NOT NULL,
            calls_per_second double precision NOT NULL,
            retry_policy jsonb NOT NULL,
            attempt_cap integer NOT NULL,
            attempt_window_seconds integer NOT NULL,
            require_consent boolean NOT NULL DEFAULT false,
            abandon_rate_limit double precision NOT NULL,
            ring_timeout_seconds integer,
            machine_detection boolean NOT NULL DEFAULT true,
            next_dial_at timestamptz,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            started_at timestamptz,
            ended_at timestamptz,
            CONSTRAINT campaigns_status_known CHECK (status IN ({CAMPAIGN_STATUSES}))
        )
        """
    )
    op.execute("CREATE INDEX campaigns_by_created ON campaigns (created_at DESC, id DESC)")
    op.execute("CREATE INDEX campaigns_running ON campaigns (id) WHERE status = 'running'")
    op.execute(
        f"""
        CREATE TABLE campaign_leads (
            campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
            lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
            status text NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz,
            call_id uuid,
            last_result text,
            callback_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (campaign_id, lead_id),
            CONSTRAINT campaign_leads_status_known CHECK (status IN ({LEAD_STATUSES}))
        )
        """
    )
    op.execute(
        "CREATE INDEX campaign_leads_due ON campaign_leads (campaign_id, next_attempt_at)"
        " WHERE next_attempt_at IS NOT NULL"
    )
    op.execute("CREATE INDEX campaign_leads_by_call ON campaign_leads (call_id) WHERE call_id IS NOT NULL")
    op.execute("CREATE INDEX campaign_leads_by_lead ON campaign_leads (lead_id)")


def _refusals_and_capacity() -> None:
    op.execute(
        f"""
        CREATE TABLE dial_refusals (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            campaign_id uuid,
            lead_id uuid,
            call_id uuid,
            number text NOT NULL,
            rule text NOT NULL,
            reason text NOT NULL,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT dial_refusals_rule_known CHECK (rule IN ({RULES}))
        )
        """
    )
    op.execute("CREATE INDEX dial_refusals_by_at ON dial_refusals (at DESC, id DESC)")
    op.execute("CREATE INDEX dial_refusals_by_campaign ON dial_refusals (campaign_id, at DESC)")
    op.execute(
        """
        CREATE TABLE capacity_reports (
            resource text NOT NULL,
            instance text NOT NULL,
            capacity integer NOT NULL,
            in_use integer NOT NULL,
            seen_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (resource, instance)
        )
        """
    )


def _calls() -> None:
    op.execute("ALTER TABLE calls ADD COLUMN campaign_id uuid, ADD COLUMN lead_id uuid")
    op.execute("ALTER TABLE calls ADD COLUMN abandoned boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE calls ADD COLUMN agent_audio_delay_seconds double precision")
    op.execute(
        "CREATE INDEX calls_by_campaign ON calls (campaign_id, created_at DESC) WHERE campaign_id IS NOT NULL"
    )
    op.execute("ALTER TABLE calls DROP CONSTRAINT calls_refused_by_known")
    op.execute(f"ALTER TABLE calls ADD CONSTRAINT calls_refused_by_known CHECK (refused_by IN ({RULES}))")
    op.execute("ALTER TABLE do_not_call ADD COLUMN created_by text")
    op.execute(
        "ALTER TABLE do_not_call ADD CONSTRAINT do_not_call_campaign"
        " FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE do_not_call DROP CONSTRAINT do_not_call_campaign")
    op.execute("ALTER TABLE do_not_call DROP COLUMN created_by")
    op.execute("DROP INDEX calls_by_campaign")
    op.execute("DELETE FROM calls WHERE refused_by NOT IN ('do_not_call', 'calling_hours')")
    op.execute("ALTER TABLE calls DROP CONSTRAINT calls_refused_by_known")
    op.execute(
        "ALTER TABLE calls ADD CONSTRAINT calls_refused_by_known"
        " CHECK (refused_by IN ('do_not_call', 'calling_hours'))"
    )
    op.execute(
        "ALTER TABLE calls DROP COLUMN agent_audio_delay_seconds, DROP COLUMN abandoned,"
        " DROP COLUMN lead_id, DROP COLUMN campaign_id"
    )
    for table in (
        "capacity_reports",
        "dial_refusals",
        "campaign_leads",
        "campaigns",
        "lead_import_errors",
        "lead_import_chunks",
        "lead_imports",
        "leads",
    ):
        op.execute(f"DROP TABLE {table}")
