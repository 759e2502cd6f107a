"""From a create request to what the dialer stores and dials: numbers normalised to E.164, defaults and
configured limits applied. Every problem is a 422 naming the field (the request models already checked the
shape; here come the checks that need the numbering plan, the time-zone database and the settings)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer import numbers
from dialer.errors import invalid_field
from dialer.settings import Settings
from dialer.webhooks import validate_callback_url
from dialplane.api.calls import AgentTarget, CreateCallRequest
from dialplane.calls import CallStatus

ALL_STATUSES = [status.value for status in CallStatus]


@dataclass(frozen=True, slots=True)
class CallSpec:
    to: str
    from_number: str | None
    mode: Literal["agent", "ivr"]
    agent: dict[str, Any] | None
    ivr: dict[str, Any] | None
    ring_timeout_seconds: int
    max_duration_seconds: int | None
    machine_detection: bool
    status_callback: str | None
    status_callback_events: list[str]
    metadata: dict[str, Any]

    @property
    def lead_timezone(self) -> str | None:
        lead = (self.agent or {}).get("lead") or {}
        zone = lead.get("timezone")
        return zone if isinstance(zone, str) else None

    def row(self, call_id: uuid.UUID, created_by: str, status: CallStatus) -> dict[str, Any]:
        """The values of the call's row."""
        return {
            "id": call_id,
            "created_by": created_by,
            "to_number": self.to,
            "from_number": self.from_number,
            "mode": self.mode,
            "agent": self.agent,
            "ivr": self.ivr,
            "status": status.value,
            "ring_timeout_seconds": self.ring_timeout_seconds,
            "max_duration_seconds": self.max_duration_seconds,
            "machine_detection": self.machine_detection,
            "status_callback": self.status_callback,
            "status_callback_events": self.status_callback_events,
            "metadata": self.metadata,
        }


def call_spec(request: CreateCallRequest, settings: Settings) -> CallSpec:
    agent = None if request.ivr is not None else (request.agent or AgentTarget())
    if agent is not None and agent.lead is not None and agent.lead.timezone is not None:
        _check_zone(agent.lead.timezone, "agent.lead.timezone")
    return CallSpec(
        to=numbers.called_number(request.to, "to"),
        from_number=numbers.caller_number(request.from_, "from")
        if request.from_
        else settings.default_caller_id,
        mode="agent" if agent is not None else "ivr",
        agent=agent.model_dump(mode="json") if agent is not None else None,
        ivr=request.ivr.model_dump(mode="json") if request.ivr is not None else None,
        ring_timeout_seconds=_ring_timeout(request.timeout, settings),
        max_duration_seconds=request.max_duration or settings.default_max_duration_seconds,
        machine_detection=request.machine_detection,
        status_callback=_callback_url(request, settings),
        status_callback_events=_callback_events(request),
        metadata=request.metadata,
    )


def _ring_timeout(timeout: int | None, settings: Settings) -> int:
    if timeout is None:
        return settings.default_ring_timeout_seconds
    if timeout < settings.min_ring_timeout_seconds:
        raise invalid_field(
            "timeout",
            f"an unanswered call must ring at least {settings.min_ring_timeout_seconds} seconds",
            "greater_than_equal",
        )
    return timeout


def _callback_url(request: CreateCallRequest, settings: Settings) -> str | None:
    if request.status_callback is None:
        return None
    url = str(request.status_callback)
    try:
        validate_callback_url(url, allow_private=settings.webhook_allow_private_targets)
    except ValueError as exc:
        raise invalid_field("status_callback", str(exc), "url_refused") from exc
    return url


def _callback_events(request: CreateCallRequest) -> list[str]:
    if request.status_callback is None:
        return []
    if request.status_callback_events is None:
        return list(ALL_STATUSES)
    return [status.value for status in request.status_callback_events]


def _check_zone(name: str, field: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a directory such as "America"
        raise invalid_field(
            field, f"unknown time zone {name!r} (an IANA name is expected)", "time_zone"
        ) from exc
