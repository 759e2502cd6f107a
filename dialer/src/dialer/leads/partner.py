"""The partner transfer: a partner's system (an API key) hands over a batch of leads.

Each lead is checked on its own (its shape by :class:`~dialplane.api.leads.PartnerLead`, then its values by
:mod:`dialer.leads.fields`); an invalid lead is reported and skipped, the others are written. A lead whose
phone is known is merged: the fields the partner gave overwrite the stored ones (custom fields key by key,
as a CSV import merges) and the partner becomes the key's. The whole batch is one transaction (the request's).
"""

from __future__ import annotations

import uuid
from collections import Counter as Tally
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.leads import fields, repository
from dialer.leads.fields import LeadInvalidError, LeadValues
from dialer.leads.service import LEADS_WRITTEN
from dialplane.api.leads import (
    LeadError,
    PartnerLead,
    PartnerTransferRequest,
    PartnerTransferResponse,
    PartnerTransferResult,
)
from dialplane.errors import Forbidden
from dialplane.internal_auth import Principal

log = structlog.get_logger(__name__)

PARTNER_FIELD_MESSAGE = "not part of a partner's lead: the partner is the API key that sends it"


async def transfer(
    session: AsyncSession, principal: Principal, request: PartnerTransferRequest
) -> PartnerTransferResponse:
    """Create or merge each valid lead of the batch; one result per lead, in the request's order."""
    if principal.kind != "api_key":
        raise Forbidden(
            "the partner transfer is for partners' API keys (X-API-Key); a user's token cannot use it",
            code="api_key_required",
        )
    partner = principal.name or principal.id
    checked = [_checked(raw) for raw in request.leads]
    results: list[PartnerTransferResult | None] = [
        None if isinstance(item, LeadValues) else _invalid(index, item) for index, item in enumerate(checked)
    ]
    valid = [(index, item) for index, item in enumerate(checked) if isinstance(item, LeadValues)]
    # In phone order, so that two batches sharing phones lock their leads in the same order (no deadlock).
    for index, values in sorted(valid, key=lambda pair: pair[1].phone):
        lead_id, inserted = await _write(session, principal, partner, values)
        results[index] = PartnerTransferResult(
            index=index, status="created" if inserted else "merged", lead_id=lead_id, errors=[]
        )
    return _response([result for result in results if result is not None], partner)


async def _write(
    session: AsyncSession, principal: Principal, partner: str, values: LeadValues
) -> tuple[uuid.UUID, bool]:
    given = values.given() | {"partner": partner}
    row = {"id": uuid.uuid4(), "created_by": principal.id, **given}
    return await repository.upsert(session, row, merged=[name for name in given if name != "phone"])


def _checked(raw: dict[str, Any]) -> LeadValues | list[LeadError]:
    """The lead's normalised values, or every problem of its shape (else of its values)."""
    try:
        lead = PartnerLead.model_validate(raw)
    except ValidationError as exc:
        return [_shape_error(error) for error in exc.errors()]
    try:
        return fields.lead_values(
            lead.model_dump(exclude={"custom_fields"}), custom_fields=lead.custom_fields
        )
    except LeadInvalidError as exc:
        return [LeadError(field=problem.field, message=problem.message) for problem in exc.problems]


def _shape_error(error: Any) -> LeadError:
    field = ".".join(str(part) for part in error.get("loc", ())) or "lead"
    message = PARTNER_FIELD_MESSAGE if field == "partner" else str(error.get("msg", "invalid"))
    return LeadError(field=field, message=message)


def _invalid(index: int, errors: list[LeadError]) -> PartnerTransferResult:
    return PartnerTransferResult(index=index, status="invalid", lead_id=None, errors=errors)


def _response(results: list[PartnerTransferResult], partner: str) -> PartnerTransferResponse:
    counts = Tally(result.status for result in results)
    for status, count in counts.items():
        LEADS_WRITTEN.labels("partner", status).inc(count)
    log.info(
        "partner_transfer",
        partner=partner,
        **{status: counts[status] for status in ("created", "merged", "invalid")},
    )
    return PartnerTransferResponse(
        results=results, created=counts["created"], merged=counts["merged"], invalid=counts["invalid"]
    )
