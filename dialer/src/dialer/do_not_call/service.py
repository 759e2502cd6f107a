"""The do-not-call lists: add, look up, list, remove, and check a number as the dial-time policy would.

Nothing here commits: the request's transaction does, at the boundary.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from dialer import numbers
from dialer.do_not_call import cursor
from dialer.do_not_call.entries import check_expiry, stored_number
from dialer.errors import invalid_field
from dialer.policy import do_not_call as repository
from dialer.policy.do_not_call import DoNotCallEntry, EntryFilter, NewEntry
from dialplane.api.do_not_call import AddEntryRequest, CheckQuery, ListDoNotCallQuery
from dialplane.errors import Conflict, NotFound
from dialplane.internal_auth import Principal
from dialplane.log import mask_number
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)

ENTRIES_CHANGED = Counter(
    "dialer_do_not_call_entries_total",
    "Do-not-call entries added or removed through the API, by change and list (global or campaign).",
    ["change", "list"],
    namespace=NAMESPACE,
)
_ATTEMPTS = 3  # an identical entry deleted between our insert and our look-up: insert again


@dataclass(frozen=True, slots=True)
class EntryPage:
    items: list[DoNotCallEntry]
    next_cursor: str | None


async def require_campaign(
    session: AsyncSession, campaign_id: uuid.UUID | None, field: str = "query.campaign_id"
) -> None:
    """A 422 naming ``field`` unless ``campaign_id`` is None (the global list) or an existing campaign."""
    if campaign_id is not None and not await repository.campaign_exists(session, campaign_id):
        raise invalid_field(field, f"no campaign with id {campaign_id}", "unknown_campaign")


async def add(session: AsyncSession, principal: Principal, request: AddEntryRequest) -> DoNotCallEntry:
    """The new entry; 409 ``already_listed`` (with the listed entry's ``id``) if an identical one exists."""
    number = stored_number(request.number, request.match)
    check_expiry(request.expires_at, dt.datetime.now(dt.UTC))
    await require_campaign(session, request.campaign_id, "campaign_id")
    entry = NewEntry(
        number, request.match, request.campaign_id, request.reason, "api", principal.id, request.expires_at
    )
    for _ in range(_ATTEMPTS):
        created = await repository.insert_new(session, entry)
        if created is not None:
            _log_change("added", created, principal)
            return created
        listed = await repository.identical(session, number, request.match, request.campaign_id)
        if listed is not None:
            raise _already_listed(listed)
    raise Conflict("the entry is being changed by another request; try again", code="already_listed")


def _already_listed(entry: DoNotCallEntry) -> Conflict:
    which = "the global list" if entry.campaign_id is None else "the campaign's list"
    return Conflict(
        f"{entry.number} ({entry.match}) is on {which} already, as entry {entry.id}",
        code="already_listed",
        extra={"id": entry.id},
    )


async def get(session: AsyncSession, entry_id: int) -> DoNotCallEntry:
    entry = await repository.get(session, entry_id)
    if entry is None:
        raise _not_found(entry_id)
    return entry


async def remove(session: AsyncSession, principal: Principal, entry_id: int) -> None:
    entry = await repository.remove(session, entry_id)
    if entry is None:
        raise _not_found(entry_id)
    _log_change("removed", entry, principal)


def _not_found(entry_id: int) -> NotFound:
    return NotFound(f"no do-not-call entry with id {entry_id}", code="do_not_call_entry_not_found")


async def list_entries(session: AsyncSession, query: ListDoNotCallQuery) -> EntryPage:
    await require_campaign(session, query.campaign_id)
    where = EntryFilter(
        campaign_id=query.campaign_id,
        match=query.match,
        number_prefix=query.number,
        before_id=cursor.decode(query.cursor) if query.cursor else None,
    )
    entries = await repository.list_entries(session, where, query.limit + 1)
    page, more = entries[: query.limit], len(entries) > query.limit
    return EntryPage(page, cursor.encode(page[-1].id) if more else None)


async def check(session: AsyncSession, query: CheckQuery) -> DoNotCallEntry | None:
    """The entry that would refuse a dial to the number (global list, and the campaign's if given)."""
    await require_campaign(session, query.campaign_id)
    return await repository.find(session, numbers.caller_number(query.number, "number"), query.campaign_id)


def _log_change(change: str, entry: DoNotCallEntry, principal: Principal) -> None:
    ENTRIES_CHANGED.labels(change, "global" if entry.campaign_id is None else "campaign").inc()
    log.info(
        f"do_not_call_{change}",
        entry_id=entry.id,
        number=entry.number if entry.match == "prefix" else mask_number(entry.number),
        match=entry.match,
        campaign_id=None if entry.campaign_id is None else str(entry.campaign_id),
        by=principal.id,
    )
