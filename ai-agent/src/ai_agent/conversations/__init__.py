"""What each agent call leaves behind: its conversation (status, outcome, summary), the turns with their
latencies, and the recording. The engine writes through :mod:`ai_agent.conversations.repository`; the API
(:mod:`ai_agent.conversations.api`) reads."""
