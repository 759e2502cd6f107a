"""How a stored call is shown: the public ``Call``, the compatibility views, and the refusal problem."""

from __future__ import annotations

from typing import Any

from dialer.calls.repository import CallRecord
from dialer.idempotency.service import StoredResponse
from dialer.policy.service import Refusal
from dialer.settings import Settings
from dialplane.api.calls import Call
from dialplane.api.compat import InteractionResponse, LegacyCallStatus
from dialplane.errors import PROBLEM_TYPE_BASE

CALLS_PATH = "/api/v1/calls"


def call_view(call: CallRecord) -> Call:
    return Call.model_validate(
        {
            "id": call.id,
            "to": call.to_number,
            "from": call.from_number,
            "mode": call.mode,
            "agent": call.agent,
            "ivr": call.ivr,
            "status": call.status,
            "timeout": call.ring_timeout_seconds,
            "max_duration": call.max_duration_seconds,
            "machine_detection": call.machine_detection,
            "created_at": call.created_at,
            "dialed_at": call.dialed_at,
            "ringing_at": call.ringing_at,
            "answered_at": call.answered_at,
            "ended_at": call.ended_at,
            "duration": call.duration,
            "answered_by": call.answered_by,
            "hangup_cause": call.hangup_cause,
            "hangup_cause_text": call.hangup_cause_text,
            "sip_code": call.sip_code,
            "failure_reason": call.failure_reason,
            "refused_by": call.refused_by,
            "attempt_number": call.attempt_number,
            "is_active": call.is_active,
            "is_completed": call.is_completed,
            "metadata": call.metadata,
            "status_callback": call.status_callback,
            "status_callback_events": call.status_callback_events,
            "outcome": call.outcome,
            "summary": call.summary,
            "transcript_url": call.transcript_url,
            "campaign_id": call.campaign_id,
            "lead_id": call.lead_id,
            "abandoned": call.abandoned,
            "agent_audio_delay": call.agent_audio_delay_seconds,
        }
    )


def call_json(call: CallRecord) -> dict[str, Any]:
    """The call as the API returns it, as JSON values (``from`` by its public name)."""
    return call_view(call).model_dump(mode="json", by_alias=True)


def call_location(call: CallRecord) -> str:
    return f"{CALLS_PATH}/{call.id}"


def created_response(call: CallRecord) -> StoredResponse:
    return StoredResponse(201, call_json(call), {"Location": call_location(call)})


def refused_response(call: CallRecord, refusal: Refusal, instance: str) -> StoredResponse:
    """422 problem+json naming the rule; the call is recorded (``failed``) and can be looked up."""
    body = {
        "type": PROBLEM_TYPE_BASE + "call_refused",
        "title": "Call refused",
        "status": 422,
        "detail": f"refused by the {refusal.rule} rule: {refusal.reason}",
        "code": "call_refused",
        "instance": instance,
        "rule": refusal.rule,
        "call_id": str(call.id),
    }
    return StoredResponse(422, body)


def channel(call: CallRecord, settings: Settings) -> str | None:
    """The endpoint the bridge dials, once its events named the trunk (and the trunk's dial string is
    configured here); None before."""
    template = settings.trunk_dial_strings.get(call.trunk or "")
    return None if template is None else template.replace("{number}", call.to_number)


def interaction_response(call: CallRecord, settings: Settings) -> InteractionResponse:
    return InteractionResponse(
        success=True,
        call_id=call.id,
        phone_number=call.to_number,
        message="Call queued",
        channel=channel(call, settings),
        status=call.status,
        created_at=call.created_at,
    )


def legacy_status(call: CallRecord, settings: Settings) -> LegacyCallStatus:
    ivr = call.ivr or {}
    duration = call.duration
    return LegacyCallStatus(
        call_id=call.id,
        phone_number=call.to_number,
        status=call.status,
        channel=channel(call, settings),
        context=ivr.get("context"),
        extension=ivr.get("extension"),
        caller_id=call.from_number,
        created_at=call.created_at,
        dialed_at=call.dialed_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        duration=None if duration is None else round(duration),
        failure_reason=call.failure_reason,
        attempt_number=call.attempt_number,
        is_active=call.is_active,
        is_completed=call.is_completed,
    )
