"""Leads: create, look up, list, change and delete them.

Nothing here commits: the request's transaction does, at the boundary. A lead's phone is unique: creating or
changing a lead to a known phone is a 409 ``lead_exists`` naming that lead. While the dialer places a call
to a lead (status ``queued`` or ``calling``) its status and phone cannot change and it cannot be deleted
(409 ``lead_busy``); the lead's row is locked for the check, so the dialer and an operator never cross.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from dialer import numbers
from dialer.calls import cursor
from dialer.leads import fields, repository
from dialer.leads.fields import LeadInvalidError, LeadValues
from dialer.leads.repository import LeadFilter, LeadRecord, PhoneTakenError
from dialplane.api.leads import BUSY_STATUSES, CreateLeadRequest, ListLeadsQuery, UpdateLeadRequest
from dialplane.errors import Conflict, NotFound
from dialplane.internal_auth import Principal
from dialplane.log import mask_number
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

LEADS_WRITTEN = Counter(
    "dialer_leads_written_total",
    "Leads written through the API, by source (api, partner) and result (created, merged, invalid, exists).",
    ["source", "result"],
    namespace=NAMESPACE,
)


@dataclass(frozen=True, slots=True)
class LeadPage:
    items: list[LeadRecord]
    next_cursor: str | None


async def create_lead(session: AsyncSession, principal: Principal, request: CreateLeadRequest) -> LeadRecord:
    """A new ``pending`` lead; 409 ``lead_exists`` if its phone is known, 422 naming a field it refuses."""
    values = _lead_values(request.model_dump(exclude={"custom_fields"}), request.custom_fields)
    row = {"id": uuid.uuid4(), "created_by": principal.id, **values.given()}
    lead = await repository.insert_new(session, row)
    if lead is None:
        LEADS_WRITTEN.labels("api", "exists").inc()
        raise lead_exists(await repository.id_by_phone(session, values.phone))
    LEADS_WRITTEN.labels("api", "created").inc()
    log.info("lead_created", lead_id=str(lead.id), phone=mask_number(lead.phone), by=principal.id)
    return lead


async def get_lead(session: AsyncSession, lead_id: uuid.UUID, *, lock: bool = False) -> LeadRecord:
    lead = await repository.get(session, lead_id, lock=lock)
    if lead is None:
        raise NotFound(f"no lead with id {lead_id}", code="lead_not_found")
    return lead


async def list_leads(session: AsyncSession, query: ListLeadsQuery) -> LeadPage:
    where = LeadFilter(
        statuses=query.status or (),
        partner=query.partner,
        language=query.language,
        consent=query.consent,
        phone=numbers.called_number(query.phone, "phone") if query.phone else None,
        text=query.q,
        campaign_id=query.campaign_id,
        created_after=query.created_after,
        created_before=query.created_before,
        before=cursor.decode(query.cursor) if query.cursor else None,
    )
    leads = await repository.list_leads(session, where, query.limit + 1)
    page, more = leads[: query.limit], len(leads) > query.limit
    next_cursor = cursor.encode(page[-1].created_at, page[-1].id) if more else None
    return LeadPage(page, next_cursor)


async def update_lead(session: AsyncSession, lead_id: uuid.UUID, request: UpdateLeadRequest) -> LeadRecord:
    """Change the fields given; 409 ``lead_busy`` for the status or phone of a lead being called,
    409 ``lead_exists`` for another lead's phone."""
    given = request.model_dump(exclude_unset=True)
    status, custom_fields = given.pop("status", None), given.pop("custom_fields", None)
    changes = _changed_values(given, custom_fields) | ({} if status is None else {"status": status})
    lead = await get_lead(session, lead_id, lock=True)
    if any(name in changes and changes[name] != getattr(lead, name) for name in ("status", "phone")):
        _refuse_if_busy(lead)
    if not changes:
        return lead
    try:
        updated = await repository.update_lead(session, lead_id, changes)
    except PhoneTakenError:
        raise lead_exists(await repository.id_by_phone(session, changes["phone"])) from None
    log.info("lead_updated", lead_id=str(lead_id), fields=sorted(changes))
    return updated


async def delete_lead(session: AsyncSession, lead_id: uuid.UUID) -> None:
    """Delete a lead and its campaign memberships; 409 ``lead_busy`` while it is being called."""
    lead = await get_lead(session, lead_id, lock=True)
    _refuse_if_busy(lead)
    await repository.delete_lead(session, lead_id)
    log.info("lead_deleted", lead_id=str(lead_id))


def lead_exists(lead_id: uuid.UUID | None) -> Conflict:
    return Conflict(
        "a lead with this phone number exists",
        code="lead_exists",
        extra={"lead_id": None if lead_id is None else str(lead_id)},
    )


def _refuse_if_busy(lead: LeadRecord) -> None:
    """409 if a call to the lead is being placed (for a change of its status or phone, or its deletion)."""
    if lead.status in BUSY_STATUSES:
        raise Conflict(
            f"a call to this lead is being placed (status {lead.status}): its status and phone cannot change"
            " and it cannot be deleted until the call ends",
            code="lead_busy",
            extra={"lead_id": str(lead.id), "status": lead.status},
        )


def _lead_values(raw: Mapping[str, Any], custom_fields: Mapping[str, Any]) -> LeadValues:
    try:
        return fields.lead_values(raw, custom_fields=custom_fields)
    except LeadInvalidError as exc:
        raise exc.as_validation_failed() from None


def _changed_values(raw: Mapping[str, Any], custom_fields: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return fields.changed_values(raw, custom_fields=custom_fields)
    except LeadInvalidError as exc:
        raise exc.as_validation_failed() from None
