"""A conversation's outcome and its one-line summary, from what the tools decided.

What was done outranks what was said: a booked meeting is ``meeting_booked`` even if the model ended the
call with another outcome. Without a decision, the model's ``end_call`` outcome counts; a person who never
spoke is ``no_conversation``; one who spoke and hung up without a decision is ``not_interested``.
"""

from __future__ import annotations

from ai_agent.session.tools import Decisions


def outcome_of(decisions: Decisions, person_turns: int, answered_by: str | None) -> str:
    if answered_by == "machine" or decisions.outcome == "voicemail":
        return "voicemail"
    for decided, outcome in (
        (decisions.opted_out, "opted_out"),
        (decisions.meeting_id is not None, "meeting_booked"),
        (decisions.callback_at is not None, "callback_requested"),
        (decisions.transferred, "transferred"),
    ):
        if decided:
            return outcome
    if decisions.outcome is not None:
        return decisions.outcome
    return "no_conversation" if person_turns == 0 else "not_interested"


def summary_of(outcome: str, decisions: Decisions) -> str:
    if outcome == "meeting_booked" and decisions.meeting_start is not None:
        invite = f", invitation to {decisions.attendee_email}" if decisions.attendee_email else ""
        return f"Meeting booked for {decisions.meeting_start.isoformat()}{invite}."
    if outcome == "callback_requested" and decisions.callback_at is not None:
        note = f" ({decisions.callback_note})" if decisions.callback_note else ""
        return f"Asked to be called back at {decisions.callback_at.isoformat()}{note}."
    if outcome == "opted_out":
        return "Asked not to be called again; the number is on the do-not-call list."
    if outcome == "voicemail":
        return f"Answering machine: {decisions.reason or 'no message left'}."
    reason = f": {decisions.reason}" if decisions.reason else ""
    return f"{outcome.replace('_', ' ').capitalize()}{reason}."
