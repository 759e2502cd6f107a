"""How stored campaigns and their leads are shown (the public models of :mod:`dialplane.api.campaigns`),
and how a request's settings become a campaign's columns."""

from __future__ import annotations

from typing import Any

from dialer.campaigns.repository import CampaignLeadRow, CampaignRecord
from dialplane.api.campaigns import (
    AttemptCap,
    Campaign,
    CampaignLead,
    CreateCampaignRequest,
    UpdateCampaignRequest,
)

DAY_SECONDS = 86_400
CAMPAIGNS_PATH = "/api/v1/campaigns"


def campaign_view(record: CampaignRecord) -> Campaign:
    cap = AttemptCap(max_attempts=record.attempt_cap, window_days=record.attempt_window_seconds / DAY_SECONDS)
    return Campaign.model_validate(
        {
            "id": record.id,
            "name": record.name,
            "status": record.status,
            "status_reason": record.status_reason,
            "agent_profile": record.agent_profile,
            "caller_id": record.caller_id,
            "schedule": record.schedule,
            "max_concurrent_calls": record.max_concurrent_calls,
            "calls_per_second": record.calls_per_second,
            "retry_policy": record.retry_policy,
            "attempt_cap": cap,
            "require_consent": record.require_consent,
            "abandon_rate_limit": record.abandon_rate_limit,
            "ring_timeout_seconds": record.ring_timeout_seconds,
            "machine_detection": record.machine_detection,
            "created_at": record.created_at,
            "started_at": record.started_at,
            "ended_at": record.ended_at,
        }
    )


def campaign_lead_view(row: CampaignLeadRow) -> CampaignLead:
    lead = row.lead
    return CampaignLead(
        lead_id=lead.lead_id,
        phone=row.phone,
        name=row.name,
        status=lead.status,
        attempts=lead.attempts,
        next_attempt_at=lead.next_attempt_at,
        callback_at=lead.callback_at,
        last_result=lead.last_result,
        call_id=lead.call_id,
        updated_at=lead.updated_at,
    )


def campaign_columns(request: CreateCampaignRequest | UpdateCampaignRequest) -> dict[str, Any]:
    """The columns of the fields the request gives (JSON columns as JSON values)."""
    given = request.model_dump(mode="json", exclude_unset=True, exclude={"leads"})
    if isinstance(request, CreateCampaignRequest):
        given = request.model_dump(mode="json", exclude={"leads"})
    cap = given.pop("attempt_cap", None)
    if cap is not None:
        given["attempt_cap"] = cap["max_attempts"]
        given["attempt_window_seconds"] = round(cap["window_days"] * DAY_SECONDS)
    return given
