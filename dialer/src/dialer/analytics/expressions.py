"""The SQL meaning of the words the figures use (``docs/analytics.md`` says the same in prose), shared by
every query of reporting so a "person-answered call" or a "final lead" means one thing everywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table, and_, func, or_

from dialer.tables import calls
from dialplane.calls import CallStatus

FINAL_LEAD_STATUSES = (
    "contacted",
    "meeting_scheduled",
    "not_interested",
    "do_not_call",
    "failed",
    "exhausted",
)
"""Lead statuses after which the campaign never dials the lead again."""
FINAL_UNLESS_RETRIED = ("callback", "no_answer")
"""Lead statuses that are final only when no further attempt is planned (``next_attempt_at`` is null)."""
Counts = TypeVar("Counts", bound=BaseModel)

LIVE_STATUSES = tuple(status.value for status in CallStatus if not status.is_terminal)

PLACED: ColumnElement[bool] = calls.c.refused_by.is_(None)
"""The call was dialed (or is about to be): the dial-time policy did not refuse it."""

PERSON_ANSWERED: ColumnElement[bool] = and_(
    calls.c.answered_at.is_not(None), calls.c.answered_by.is_distinct_from("machine")
)
"""Answered, and not by an answering machine (human, unknown, or not detected)."""

MEETING_BOOKED: ColumnElement[bool] = calls.c.outcome == "meeting_booked"

LIVE: ColumnElement[bool] = calls.c.status.in_(LIVE_STATUSES)
"""Not ended: queued, dialing, ringing or answered."""

DURATION_SECONDS: ColumnElement[float] = func.coalesce(
    calls.c.duration_seconds, func.extract("epoch", calls.c.ended_at - calls.c.answered_at)
)
"""Answer to end: the bridge's figure, else from the call's timestamps (null while it has not ended)."""


def final_lead(table: Table) -> ColumnElement[bool]:
    """The campaign is done with the lead (``table``: ``campaign_leads``)."""
    return or_(
        table.c.status.in_(FINAL_LEAD_STATUSES),
        and_(table.c.status.in_(FINAL_UNLESS_RETRIED), table.c.next_attempt_at.is_(None)),
    )


def ratio(part: int, whole: int) -> float:
    """``part / whole``, 0 when ``whole`` is 0."""
    return part / whole if whole else 0.0


def as_float(value: Decimal | float | None) -> float | None:
    """An average from PostgreSQL (``numeric`` arrives as ``Decimal``) as a float; None stays None."""
    return None if value is None else float(value)


def counts(model: type[Counts], found: dict[str, int]) -> Counts:
    """``model`` (every field a count) from the counts found; a field with none found is 0."""
    return model(**{name: found.get(name, 0) for name in model.model_fields})
