"""The meetings API: the meetings the agent booked, listed and read from the built-in calendar's table, and
their status changed through the calendar that holds them (:mod:`ai_agent.calendar`)."""
