"""All SQL of the do-not-call list (table ``do_not_call``, migration 0004).

An entry is an exact E.164 number or a prefix. Entries with no ``campaign_id`` form the global list, checked
for every call; an entry with a ``campaign_id`` applies to that campaign's calls only (campaigns come later).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, case, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import do_not_call as dnc

Match = Literal["exact", "prefix"]


@dataclass(frozen=True, slots=True)
class DoNotCallEntry:
    id: int
    number: str
    match: Match
    campaign_id: uuid.UUID | None
    reason: str | None


async def find(
    session: AsyncSession, e164: str, campaign_id: uuid.UUID | None = None
) -> DoNotCallEntry | None:
    """The entry that forbids calling ``e164`` (an exact entry before the longest prefix), if any."""
    prefixes = [e164[:end] for end in range(2, len(e164) + 1)]
    in_scope: ColumnElement[bool] = dnc.c.campaign_id.is_(None)
    if campaign_id is not None:
        in_scope = or_(in_scope, dnc.c.campaign_id == campaign_id)
    query = (
        select(dnc.c.id, dnc.c.number, dnc.c.match, dnc.c.campaign_id, dnc.c.reason)
        .where(
            in_scope,
            or_(dnc.c.expires_at.is_(None), dnc.c.expires_at > func.clock_timestamp()),
            or_(
                and_(dnc.c.match == "exact", dnc.c.number == e164),
                and_(dnc.c.match == "prefix", dnc.c.number.in_(prefixes)),
            ),
        )
        .order_by(case((dnc.c.match == "exact", 0), else_=1), func.length(dnc.c.number).desc())
        .limit(1)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else DoNotCallEntry(row.id, row.number, row.match, row.campaign_id, row.reason)


async def add(
    session: AsyncSession,
    number: str,
    *,
    match: Match = "exact",
    reason: str | None = None,
    source: str | None = None,
    campaign_id: uuid.UUID | None = None,
    expires_at: dt.datetime | None = None,
) -> int:
    """Add an entry (``number`` in E.164, or an E.164 prefix); returns its id."""
    values = {
        "number": number,
        "match": match,
        "reason": reason,
        "source": source,
        "campaign_id": campaign_id,
        "expires_at": expires_at,
    }
    result = await session.execute(insert(dnc).values(**values).returning(dnc.c.id))
    return int(result.scalar_one())


async def add_once(session: AsyncSession, number: str, *, reason: str | None, source: str | None) -> None:
    """Put an exact global entry for ``number`` on the list unless one is there (the list keeps the first)."""
    values = {"number": number, "match": "exact", "reason": reason, "source": source}
    await session.execute(pg_insert(dnc).values(**values).on_conflict_do_nothing())
