"""Campaigns: create, change, start, pause, resume, stop, delete; their leads and callbacks.

Nothing here commits (the request's transaction does). Dialing is the runner's (:mod:`.runner`); what a
finished call means for its lead is :mod:`.settle`'s.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from dialer import numbers
from dialer.calls import cursor
from dialer.campaigns import repository
from dialer.campaigns.repository import CampaignLeadRow, CampaignRecord
from dialer.campaigns.views import campaign_columns
from dialer.errors import invalid_field
from dialplane.api.campaigns import (
    CallbackRequest,
    CreateCampaignRequest,
    LeadSelection,
    ListCampaignLeadsQuery,
    ListCampaignsQuery,
    UpdateCampaignRequest,
)
from dialplane.errors import Conflict, NotFound
from dialplane.internal_auth import Principal

log = structlog.get_logger(__name__)

ENDED = ("stopped", "completed")
TRANSITIONS = {
    "start": (("draft",), "running"),
    "pause": (("running",), "paused"),
    "resume": (("paused",), "running"),
    "stop": (("draft", "running", "paused"), "stopped"),
}


Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class Page(Generic[Item]):
    items: list[Item]
    next_cursor: str | None


async def create(
    session: AsyncSession, principal: Principal, request: CreateCampaignRequest, now: dt.datetime
) -> CampaignRecord:
    values = campaign_columns(request) | {"id": uuid.uuid4(), "created_by": principal.id}
    values["caller_id"] = _caller_id(request.caller_id)
    campaign = await repository.insert_campaign(session, values)
    if request.leads is not None:
        await add_leads(session, campaign.id, request.leads, now)
    log.info("campaign_created", campaign_id=str(campaign.id))
    return campaign


async def get(session: AsyncSession, campaign_id: uuid.UUID, *, lock: bool = False) -> CampaignRecord:
    campaign = await repository.get(session, campaign_id, lock=lock)
    if campaign is None:
        raise NotFound(f"no campaign with id {campaign_id}", code="campaign_not_found")
    return campaign


async def list_campaigns(session: AsyncSession, query: ListCampaignsQuery) -> Page[CampaignRecord]:
    found = await repository.list_campaigns(
        session, query.status or (), _cursor(query.cursor), query.limit + 1
    )
    page = found[: query.limit]
    more = len(found) > query.limit
    return Page(page, cursor.encode(page[-1].created_at, page[-1].id) if more else None)


async def update(
    session: AsyncSession, campaign_id: uuid.UUID, request: UpdateCampaignRequest
) -> CampaignRecord:
    campaign = await get(session, campaign_id, lock=True)
    if campaign.status in ENDED:
        raise Conflict(f"the campaign is {campaign.status}; it can no longer change", code="campaign_ended")
    changes = campaign_columns(request)
    if "caller_id" in changes:
        changes["caller_id"] = _caller_id(request.caller_id)
    if not changes:
        return campaign
    return await repository.update_campaign(session, campaign_id, **changes)


async def change_state(
    session: AsyncSession, campaign_id: uuid.UUID, action: str, reason: str | None = None
) -> CampaignRecord:
    """``start``, ``pause``, ``resume`` or ``stop``; 409 from a status the action does not apply to."""
    campaign = await get(session, campaign_id, lock=True)
    allowed_from, target = TRANSITIONS[action]
    if campaign.status not in allowed_from:
        raise Conflict(
            f"a {campaign.status} campaign cannot {action} (only {' or '.join(allowed_from)})",
            code="campaign_state",
        )
    changes: dict[str, object] = {"status": target, "status_reason": reason}
    if action == "start":
        changes["started_at"] = func.clock_timestamp()
    if action == "stop":
        changes["ended_at"] = func.clock_timestamp()
    log.info("campaign_state", campaign_id=str(campaign_id), status=target, previous=campaign.status)
    return await repository.update_campaign(session, campaign_id, **changes)


async def delete(session: AsyncSession, campaign_id: uuid.UUID) -> None:
    campaign = await get(session, campaign_id, lock=True)
    if campaign.status in ("running", "paused"):
        raise Conflict("stop the campaign before deleting it", code="campaign_active")
    await repository.delete_campaign(session, campaign_id)


async def add_leads(
    session: AsyncSession, campaign_id: uuid.UUID, selection: LeadSelection, now: dt.datetime
) -> int:
    """Add leads, due at once."""
    campaign = await get(session, campaign_id)
    if campaign.status in ENDED:
        raise Conflict(f"the campaign is {campaign.status}", code="campaign_ended")
    missing = await repository.missing_leads(session, selection.lead_ids) if selection.lead_ids else []
    if missing:
        shown = ", ".join(str(lead_id) for lead_id in missing[:5])
        raise invalid_field("leads.lead_ids", f"no lead with id {shown}", "lead_not_found")
    return await repository.add_leads(session, campaign_id, selection, now)


async def list_leads(
    session: AsyncSession, campaign_id: uuid.UUID, query: ListCampaignLeadsQuery
) -> Page[CampaignLeadRow]:
    await get(session, campaign_id)
    statuses = query.status or ()
    found = await repository.list_campaign_leads(
        session, campaign_id, statuses, _cursor(query.cursor), query.limit + 1
    )
    page = found[: query.limit]
    more = len(found) > query.limit
    last = page[-1].lead if page else None
    return Page(page, cursor.encode(last.created_at, last.lead_id) if more and last else None)


async def schedule_callback(
    session: AsyncSession, campaign_id: uuid.UUID, lead_id: uuid.UUID, request: CallbackRequest
) -> CampaignLeadRow:
    """The lead is dialed at ``request.at`` (or, outside the calling hours then, at their next opening)."""
    campaign = await get(session, campaign_id)
    if campaign.status in ENDED:
        raise Conflict(f"the campaign is {campaign.status}", code="campaign_ended")
    lead = await repository.get_campaign_lead(session, campaign_id, lead_id, lock=True)
    if lead is None:
        raise NotFound(f"lead {lead_id} is not in campaign {campaign_id}", code="campaign_lead_not_found")
    if lead.status in repository.BUSY_LEAD:
        raise Conflict("the lead is being called; set the callback after the call", code="lead_busy")
    await repository.set_lead_state(
        session, campaign_id, lead_id, status="callback", next_attempt_at=request.at, callback_at=request.at
    )
    row = await repository.get_campaign_lead_row(session, campaign_id, lead_id)
    assert row is not None  # locked above
    return row


def _caller_id(value: str | None) -> str | None:
    return None if value is None else numbers.caller_number(value, "caller_id")


def _cursor(value: str | None) -> tuple[dt.datetime, uuid.UUID] | None:
    return None if value is None else cursor.decode(value)
