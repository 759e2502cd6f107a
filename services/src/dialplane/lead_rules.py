"""How a campaign call's end moves its lead — one definition for the dialer, which settles leads
(``dialer.campaigns.settle``), and the audit (:mod:`dialplane.audit`), which checks that it did."""

from __future__ import annotations

from dialplane.api.campaigns import RetryPolicy, RetryRule
from dialplane.calls import CallStatus

RETRIED = ("busy", "no_answer", "failed", "voicemail", "abandoned")
"""Results retried after the retry policy's delay until the rule's attempts are used up (the fields of
:class:`~dialplane.api.campaigns.RetryPolicy`)."""

STATUS_OF_OUTCOME = {
    "meeting_booked": "meeting_scheduled",
    "not_interested": "not_interested",
    "opted_out": "do_not_call",
    "callback_requested": "callback",
}
"""The lead's status after a conversation with this outcome; any other answered call: ``contacted``."""


def call_result(status: CallStatus, abandoned: bool, answered_by: str | None, outcome: str | None) -> str:
    """busy, no_answer, failed, voicemail, abandoned, the conversation's outcome, or ``answered``."""
    if status in (CallStatus.BUSY, CallStatus.NO_ANSWER):
        return status.value
    if status in (CallStatus.FAILED, CallStatus.CANCELED):
        return "failed"
    if abandoned:
        return "abandoned"
    if answered_by == "machine" or outcome == "voicemail":
        return "voicemail"
    return outcome or "answered"


def retry_rule(policy: RetryPolicy, result: str) -> RetryRule | None:
    """The rule for ``result``, or None when the result is not retried."""
    if result not in RETRIED:
        return None
    rule: RetryRule = getattr(policy, result)
    return rule


def settled_status(result: str, attempts: int, policy: RetryPolicy) -> str:
    """The lead's status once a call with ``result`` ended, the lead having had ``attempts`` calls."""
    rule = retry_rule(policy, result)
    if rule is not None:
        if attempts >= rule.max_attempts:
            return "exhausted"
        return "failed" if result == "failed" else "no_answer"
    return STATUS_OF_OUTCOME.get(result, "contacted")
