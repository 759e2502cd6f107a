"""Listing the dial refusals for operators: filters, pages, and numbers masked for who may not see them."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.errors import invalid_field
from dialer.refusals import cursor, repository
from dialer.refusals.repository import RefusalFilter, RefusalRecord
from dialplane.api.refusals import DialRefusal, DialRefusalList, ListDialRefusalsQuery
from dialplane.internal_auth import Principal
from dialplane.log import mask_number

FULL_NUMBERS_SCOPE = "do_not_call:read"


async def list_refusals(
    session: AsyncSession, query: ListDialRefusalsQuery, principal: Principal
) -> DialRefusalList:
    """A page of refusals, newest first; numbers in full only for principals with ``do_not_call:read``
    (or ``admin``)."""
    if query.since is not None and query.until is not None and query.until <= query.since:
        raise invalid_field("query.until", "must be after since")
    where = RefusalFilter(
        campaign_id=query.campaign_id,
        lead_id=query.lead_id,
        rules=query.rule or (),
        since=query.since,
        until=query.until,
        before=cursor.decode(query.cursor) if query.cursor else None,
    )
    found = await repository.list_refusals(session, where, query.limit + 1)
    page, more = found[: query.limit], len(found) > query.limit
    full = principal.allows(FULL_NUMBERS_SCOPE)
    return DialRefusalList(
        items=[_view(refusal, full) for refusal in page],
        next_cursor=cursor.encode(page[-1].at, page[-1].id) if more else None,
    )


def _view(refusal: RefusalRecord, full_number: bool) -> DialRefusal:
    values = asdict(refusal)
    if not full_number:
        values["number"] = mask_number(refusal.number)
    return DialRefusal.model_validate(values)
