"""What an audit finds: one :class:`Finding` per thing wrong (or still in flight), grouped by invariant."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

from dialplane.log import mask_number


class Invariant(enum.StrEnum):
    """The invariants checked, in the order the report shows them."""

    FINAL_STATE = "final_state"
    DIAL_LIMITS = "dial_limits"
    EVENTS = "events"
    WEBHOOKS = "webhooks"
    OVERLAP = "overlap"
    DO_NOT_CALL = "do_not_call"

    @property
    def heading(self) -> str:
        return HEADINGS[self]


HEADINGS = {
    Invariant.FINAL_STATE: "every lead and call reaches a consistent final state",
    Invariant.DIAL_LIMITS: "no number dialed more than its policy allows (retry policy, attempt cap)",
    Invariant.EVENTS: "no event lost: each call's events are complete and in order",
    Invariant.WEBHOOKS: "every webhook delivered at least once",
    Invariant.OVERLAP: "no call of a lead overlapping another call of the same lead",
    Invariant.DO_NOT_CALL: "no call to a number on the do-not-call list after it was listed",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation of ``invariant`` (or, with ``in_flight``, work not finished yet: not wrong while the
    system runs). ``number`` is the full number; reports show it masked."""

    invariant: Invariant
    message: str
    call_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None
    number: str | None = None
    in_flight: bool = False

    @property
    def subject(self) -> str:
        """What the finding is about, for people: ``call …``, ``lead …``, ``number +44******12``."""
        if self.call_id is not None:
            return f"call {self.call_id}"
        if self.lead_id is not None:
            return f"lead {self.lead_id}"
        if self.number is not None:
            return f"number {mask_number(self.number)}"
        if self.campaign_id is not None:
            return f"campaign {self.campaign_id}"
        return "database"

    def as_json(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant.value,
            "in_flight": self.in_flight,
            "call_id": _text(self.call_id),
            "lead_id": _text(self.lead_id),
            "campaign_id": _text(self.campaign_id),
            "number": mask_number(self.number) if self.number else None,
            "message": self.message,
        }


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Scope:
    """What to audit: everything, or one campaign's calls and leads."""

    campaign_id: uuid.UUID | None = None

    def params(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id}


CAMPAIGN_FILTER = "(CAST(:campaign_id AS uuid) IS NULL OR {column} = CAST(:campaign_id AS uuid))"


def in_scope(column: str) -> str:
    """A SQL condition: ``column`` (a campaign id) is the audited campaign's, or no campaign is chosen."""
    return CAMPAIGN_FILTER.format(column=column)


@dataclass(frozen=True, slots=True)
class AuditReport:
    scope: Scope
    findings: list[Finding] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.in_flight]

    @property
    def in_flight(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.in_flight]

    def clean(self, *, settled: bool = False) -> bool:
        """No violation; with ``settled`` (the system has come to rest), nothing in flight either."""
        return not (self.findings if settled else self.violations)

    def of(self, invariant: Invariant) -> list[Finding]:
        return [finding for finding in self.violations if finding.invariant is invariant]
