"""AI agent: its profiles, the active system prompt, and what each conversation leaves behind.

* ``agent_profiles``: how the agent behaves on a call (``agent.profile`` of the call names one). A NULL
  ``system_prompt`` means the active global prompt, a NULL ``voice`` the speech provider's default for the
  language, a NULL ``language`` the language of the called number's country, a NULL ``voicemail_message``
  hanging up on answering machines (the message is spoken as written). The ``default`` profile is inserted
  here and cannot be deleted.
* ``agent_settings``: key ``system_prompt`` holds the active global prompt; without it the prompt that
  ships with the ai-agent is active.
* ``conversations`` (one per agent call, keyed by the call's id), their ``conversation_turns`` (numbered
  from 1 per call, with per-turn latencies in ``timings``) and ``conversation_recordings`` (the mixed audio).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TOOLS = (
    "'check_calendar_availability', 'book_meeting', 'schedule_callback', 'transfer_to_human',"
    " 'opt_out', 'end_call'"
)
OUTCOMES = (
    "'meeting_booked', 'interested', 'not_interested', 'callback_requested', 'voicemail', 'opted_out',"
    " 'transferred', 'no_conversation'"
)
LANGUAGE = "^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"  # en, en-US, zh-Hant-TW, es-419
DEFAULT_VOICEMAIL = (
    "Hello, this is Alex, an automated assistant calling on behalf of Dialplane about a short introductory"
    " call. We will try to reach you again another time. Goodbye."
)


def upgrade() -> None:
    _profiles()
    op.execute(
        """
        CREATE TABLE agent_settings (
            key text PRIMARY KEY,
            value text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """
    )
    _conversations()


def _profiles() -> None:
    op.execute(
        f"""
        CREATE TABLE agent_profiles (
            name text PRIMARY KEY,
            description text NOT NULL DEFAULT '',
            system_prompt text,
            voice text,
            language text,
            tools text[] NOT NULL,
            calendar text NOT NULL DEFAULT 'default',
            voicemail_message text,
            transfer_destination text,
            agent_name text NOT NULL DEFAULT 'Alex',
            company_name text NOT NULL DEFAULT 'Dialplane',
            meeting_title text NOT NULL DEFAULT 'Introductory call',
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT agent_profiles_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{{0,63}}$'),
            CONSTRAINT agent_profiles_tools_known CHECK (tools <@ ARRAY[{TOOLS}]::text[]),
            CONSTRAINT agent_profiles_prompt_not_empty CHECK (system_prompt IS NULL OR system_prompt <> ''),
            CONSTRAINT agent_profiles_language_format CHECK (language IS NULL OR language ~ '{LANGUAGE}')
        )
        """
    )
    op.execute(
        f"""
        INSERT INTO agent_profiles (name, description, tools, voicemail_message)
        VALUES ('default', 'The profile of agent calls that name none.', ARRAY[{TOOLS}],
                '{DEFAULT_VOICEMAIL}')
        """
    )


def _conversations() -> None:
    op.execute(
        f"""
        CREATE TABLE conversations (
            call_id uuid PRIMARY KEY,
            profile text NOT NULL,
            to_number text NOT NULL,
            lead jsonb NOT NULL DEFAULT '{{}}',
            variables jsonb NOT NULL DEFAULT '{{}}',
            language text,
            status text NOT NULL DEFAULT 'pending',
            answered_by text,
            outcome text,
            summary text,
            callback_at timestamptz,
            meeting_id text,
            end_reason text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            started_at timestamptz,
            ended_at timestamptz,
            CONSTRAINT conversations_status_known CHECK (status IN ('pending', 'active', 'ended')),
            CONSTRAINT conversations_outcome_known CHECK (outcome IS NULL OR outcome IN ({OUTCOMES}))
        )
        """
    )
    op.execute("CREATE INDEX conversations_open ON conversations (status) WHERE status <> 'ended'")
    op.execute(
        """
        CREATE TABLE conversation_turns (
            call_id uuid NOT NULL REFERENCES conversations ON DELETE CASCADE,
            seq integer NOT NULL,
            speaker text NOT NULL,
            text text NOT NULL,
            started_at timestamptz NOT NULL,
            ended_at timestamptz,
            interrupted boolean NOT NULL DEFAULT false,
            tool_calls jsonb NOT NULL DEFAULT '[]',
            timings jsonb NOT NULL DEFAULT '{}',
            PRIMARY KEY (call_id, seq),
            CONSTRAINT conversation_turns_speaker_known CHECK (speaker IN ('agent', 'person')),
            CONSTRAINT conversation_turns_seq_positive CHECK (seq >= 1)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE conversation_recordings (
            call_id uuid PRIMARY KEY REFERENCES conversations ON DELETE CASCADE,
            content_type text NOT NULL,
            audio bytea NOT NULL,
            duration_seconds double precision,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE conversation_recordings")
    op.execute("DROP TABLE conversation_turns")
    op.execute("DROP TABLE conversations")
    op.execute("DROP TABLE agent_settings")
    op.execute("DROP TABLE agent_profiles")
