"""The dial-time policy: checked just before a call is handed to the bridge, never only when it is loaded.

Rules, in order: the do-not-call list, then the called party's calling hours. A refusal names its rule, and
the caller records it on the call (``refused_by``, ``failure_reason``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.policy import calling_hours, do_not_call
from dialer.policy.clock import Clock
from dialer.settings import Settings

Rule = Literal["do_not_call", "calling_hours"]


@dataclass(frozen=True, slots=True)
class Refusal:
    rule: Rule
    reason: str


@dataclass(frozen=True, slots=True)
class DialRequest:
    """What the policy needs to know about a call about to be dialed."""

    to: str  # E.164
    lead_timezone: str | None = None
    campaign_id: uuid.UUID | None = None


class DialPolicy:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._window = calling_hours.Window(settings.calling_hours_start, settings.calling_hours_end)

    async def check(self, session: AsyncSession, dial: DialRequest) -> Refusal | None:
        """The rule that forbids the call now, or None if it may be dialed."""
        entry = await do_not_call.find(session, dial.to, dial.campaign_id)
        if entry is not None:
            return Refusal("do_not_call", do_not_call_reason(entry))
        return self._check_hours(dial)

    def _check_hours(self, dial: DialRequest) -> Refusal | None:
        if calling_hours.is_exempt(dial.to, self._settings.calling_hours_exempt_prefixes):
            return None
        zones = calling_hours.zones_for(dial.to, dial.lead_timezone)
        reason = calling_hours.outside_window(self._clock(), zones, self._window)
        return None if reason is None else Refusal("calling_hours", reason)


def do_not_call_reason(entry: do_not_call.DoNotCallEntry) -> str:
    which = "the number" if entry.match == "exact" else f"numbers starting {entry.number}"
    scope = "the do-not-call list" if entry.campaign_id is None else "the campaign's do-not-call list"
    return f"{which} {'is' if entry.match == 'exact' else 'are'} on {scope}"
