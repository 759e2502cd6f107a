"""All SQL of the do-not-call list (table ``do_not_call``, migrations 0004 and 0010).

An entry is an exact E.164 number or a prefix. Entries with no ``campaign_id`` form the global list, checked
for every call; an entry with a ``campaign_id`` applies to that campaign's calls only. An entry counts until
its ``expires_at`` (none: for ever). One entry per (number, match, list): the unique index
``do_not_call_entry`` keeps the first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, and_, case, delete, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import campaigns
from dialer.tables import do_not_call as dnc

Match = Literal["exact", "prefix"]
EXPORT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class DoNotCallEntry:
    id: int
    number: str
    match: Match
    campaign_id: uuid.UUID | None
    reason: str | None
    source: str | None
    created_by: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to add (``number`` already normalised)."""

    number: str
    match: Match
    campaign_id: uuid.UUID | None = None
    reason: str | None = None
    source: str | None = None
    created_by: str | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class EntryFilter:
    campaign_id: uuid.UUID | None  # None: the global list
    match: Match | None = None
    number_prefix: str | None = None
    before_id: int | None = None  # the cursor: strictly older than this entry


_COLUMNS = [dnc.c[f.name] for f in fields(DoNotCallEntry)]


def _entry(row: Row[Any]) -> DoNotCallEntry:
    return DoNotCallEntry(**row._mapping)


def _in_force() -> ColumnElement[bool]:
    return or_(dnc.c.expires_at.is_(None), dnc.c.expires_at > func.clock_timestamp())


def _on_list(campaign_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The entries of one list: the campaign's, or the global one."""
    return dnc.c.campaign_id.is_(None) if campaign_id is None else dnc.c.campaign_id == campaign_id


async def find(
    session: AsyncSession, e164: str, campaign_id: uuid.UUID | None = None
) -> DoNotCallEntry | None:
    """The entry that forbids calling ``e164`` (an exact entry before the longest prefix), if any: on the
    global list, or on the campaign's when one is given."""
    prefixes = [e164[:end] for end in range(2, len(e164) + 1)]
    in_scope: ColumnElement[bool] = dnc.c.campaign_id.is_(None)
    if campaign_id is not None:
        in_scope = or_(in_scope, dnc.c.campaign_id == campaign_id)
    query = (
        select(*_COLUMNS)
        .where(
            in_scope,
            _in_force(),
            or_(
                and_(dnc.c.match == "exact", dnc.c.number == e164),
                and_(dnc.c.match == "prefix", dnc.c.number.in_(prefixes)),
            ),
        )
        .order_by(case((dnc.c.match == "exact", 0), else_=1), func.length(dnc.c.number).desc())
        .limit(1)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _entry(row)


async def add(
    session: AsyncSession,
    number: str,
    *,
    match: Match = "exact",
    reason: str | None = None,
    source: str | None = None,
    campaign_id: uuid.UUID | None = None,
    expires_at: dt.datetime | None = None,
    created_by: str | None = None,
) -> int:
    """Add an entry (``number`` in E.164, or an E.164 prefix); returns its id. An identical entry already
    listed is an IntegrityError (see :func:`insert_new` to be told instead)."""
    entry = NewEntry(number, match, campaign_id, reason, source, created_by, expires_at)
    result = await session.execute(insert(dnc).values(**asdict(entry)).returning(dnc.c.id))
    return int(result.scalar_one())


async def add_once(session: AsyncSession, number: str, *, reason: str | None, source: str | None) -> None:
    """Put an exact global entry for ``number`` on the list unless one is there (the list keeps the first)."""
    values = {"number": number, "match": "exact", "reason": reason, "source": source}
    await session.execute(pg_insert(dnc).values(**values).on_conflict_do_nothing())


async def insert_new(session: AsyncSession, entry: NewEntry) -> DoNotCallEntry | None:
    """Add ``entry``; None if an identical one (number, match, list) is there already."""
    query = pg_insert(dnc).values(**asdict(entry)).on_conflict_do_nothing().returning(*_COLUMNS)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _entry(row)


async def insert_batch(session: AsyncSession, entries: Sequence[NewEntry]) -> int:
    """Add the entries that are not listed yet (nor earlier in ``entries``); how many were added."""
    if not entries:
        return 0
    query = pg_insert(dnc).values([asdict(e) for e in entries]).on_conflict_do_nothing().returning(dnc.c.id)
    return len((await session.execute(query)).all())


async def identical(
    session: AsyncSession, number: str, match: Match, campaign_id: uuid.UUID | None
) -> DoNotCallEntry | None:
    """The entry for this number and match on this list, if any (expired or not)."""
    query = select(*_COLUMNS).where(dnc.c.number == number, dnc.c.match == match, _on_list(campaign_id))
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _entry(row)


async def get(session: AsyncSession, entry_id: int) -> DoNotCallEntry | None:
    row = (await session.execute(select(*_COLUMNS).where(dnc.c.id == entry_id))).one_or_none()
    return None if row is None else _entry(row)


async def remove(session: AsyncSession, entry_id: int) -> DoNotCallEntry | None:
    """Delete the entry; the deleted entry, or None if there was none."""
    query = delete(dnc).where(dnc.c.id == entry_id).returning(*_COLUMNS)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _entry(row)


async def list_entries(session: AsyncSession, where: EntryFilter, limit: int) -> list[DoNotCallEntry]:
    """One list's entries (expired ones too), newest first (by id)."""
    conditions = [_on_list(where.campaign_id)]
    if where.match is not None:
        conditions.append(dnc.c.match == where.match)
    if where.number_prefix is not None:
        conditions.append(dnc.c.number.startswith(where.number_prefix, autoescape=True))
    if where.before_id is not None:
        conditions.append(dnc.c.id < where.before_id)
    query = select(*_COLUMNS).where(*conditions).order_by(dnc.c.id.desc()).limit(limit)
    return [_entry(row) for row in (await session.execute(query)).all()]


async def in_force(
    session: AsyncSession, campaign_id: uuid.UUID | None
) -> AsyncIterator[list[DoNotCallEntry]]:
    """One list's entries in force, newest first, a batch at a time (a server-side cursor: a list of
    millions is never held in memory)."""
    query = (
        select(*_COLUMNS)
        .where(_on_list(campaign_id), _in_force())
        .order_by(dnc.c.id.desc())
        .execution_options(yield_per=EXPORT_BATCH)
    )
    result = await session.stream(query)
    async for rows in result.partitions(EXPORT_BATCH):
        yield [_entry(row) for row in rows]


async def campaign_exists(session: AsyncSession, campaign_id: uuid.UUID) -> bool:
    """Whether the campaign exists; if so it cannot be deleted until the transaction ends (a key-share lock),
    so entries added for it in this transaction keep a valid ``campaign_id``."""
    query = select(campaigns.c.id).where(campaigns.c.id == campaign_id).with_for_update(key_share=True)
    return (await session.execute(query)).one_or_none() is not None
