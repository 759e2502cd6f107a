"""All SQL of lead import jobs (tables ``lead_imports``, ``lead_import_chunks``, ``lead_import_errors``,
migration 0010).

A job is claimed with a lease (``claimed_by``, ``lease_until``): a worker writes a batch only while the job
is still claimed by it, checked under the job's row lock in the batch's own transaction, so a worker that
lost its job (its lease expired and another took over) cannot write twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Interval,
    Row,
    Text,
    Uuid,
    bindparam,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import TypeEngine

from dialer.lead_imports.batch import LineError
from dialer.leads.fields import FIELDS
from dialer.tables import (
    campaign_leads,
    campaigns,
    lead_import_chunks,
    lead_import_errors,
    lead_imports,
    leads,
)


@dataclass(frozen=True, slots=True)
class ImportRecord:
    id: uuid.UUID
    created_by: str
    filename: str | None
    status: str
    bytes_total: int
    chunks_total: int
    lines_done: int
    rows_done: int
    rows_created: int
    rows_merged: int
    rows_failed: int
    campaign_id: uuid.UUID | None
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Progress:
    """What a batch adds to its job."""

    lines_done: int
    rows: int
    created: int
    merged: int
    failed: int


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    id: int
    line: int
    field: str | None
    message: str


_COLUMNS = [lead_imports.c[f.name] for f in fields(ImportRecord)]


def _record(row: Row[Any]) -> ImportRecord:
    return ImportRecord(**row._mapping)


def _lease(seconds: float) -> ColumnElement[dt.datetime]:
    return func.clock_timestamp() + literal(dt.timedelta(seconds=seconds), Interval())


async def insert_job(session: AsyncSession, import_id: uuid.UUID, created_by: str) -> None:
    await session.execute(insert(lead_imports).values(id=import_id, created_by=created_by))


async def add_chunk(session: AsyncSession, import_id: uuid.UUID, seq: int, data: bytes) -> None:
    await session.execute(insert(lead_import_chunks).values(import_id=import_id, seq=seq, data=data))


async def queue_job(
    session: AsyncSession,
    import_id: uuid.UUID,
    *,
    filename: str | None,
    campaign_id: uuid.UUID | None,
    bytes_total: int,
    chunks_total: int,
) -> ImportRecord:
    query = (
        update(lead_imports)
        .where(lead_imports.c.id == import_id)
        .values(
            status="queued",
            filename=filename,
            campaign_id=campaign_id,
            bytes_total=bytes_total,
            chunks_total=chunks_total,
        )
        .returning(*_COLUMNS)
    )
    return _record((await session.execute(query)).one())


async def get(session: AsyncSession, import_id: uuid.UUID) -> ImportRecord | None:
    row = (await session.execute(select(*_COLUMNS).where(lead_imports.c.id == import_id))).one_or_none()
    return None if row is None else _record(row)


async def campaign_exists(session: AsyncSession, campaign_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(campaigns.c.id == campaign_id))))


async def list_errors(
    session: AsyncSession, import_id: uuid.UUID, after: tuple[int, int] | None, limit: int
) -> list[ErrorRecord]:
    """Errors by line (then as recorded), those after the position ``after`` (line, id)."""
    table = lead_import_errors
    conditions: list[ColumnElement[bool]] = [table.c.import_id == import_id]
    if after is not None:
        conditions.append(tuple_(table.c.line, table.c.id) > tuple_(*after))
    query = (
        select(table.c.id, table.c.line, table.c.field, table.c.message)
        .where(*conditions)
        .order_by(table.c.line, table.c.id)
        .limit(limit)
    )
    return [ErrorRecord(**row._mapping) for row in (await session.execute(query)).all()]


# --- the worker's side ---------------------------------------------------------------------------------


async def claim(session: AsyncSession, token: str, lease_seconds: float) -> ImportRecord | None:
    """The oldest job waiting, or running under an expired lease, now claimed by ``token``."""
    candidate = (
        select(lead_imports.c.id)
        .where(
            or_(
                lead_imports.c.status == "queued",
                (lead_imports.c.status == "running") & (lead_imports.c.lease_until < func.clock_timestamp()),
            )
        )
        .order_by(lead_imports.c.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    query = (
        update(lead_imports)
        .where(lead_imports.c.id == candidate)
        .values(
            status="running",
            claimed_by=token,
            lease_until=_lease(lease_seconds),
            started_at=func.coalesce(lead_imports.c.started_at, func.clock_timestamp()),
        )
        .returning(*_COLUMNS)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def chunk(session: AsyncSession, import_id: uuid.UUID, seq: int) -> bytes | None:
    query = select(lead_import_chunks.c.data).where(
        lead_import_chunks.c.import_id == import_id, lead_import_chunks.c.seq == seq
    )
    data: bytes | None = await session.scalar(query)
    return data


async def lock_claimed(session: AsyncSession, import_id: uuid.UUID, token: str) -> ImportRecord | None:
    """The job, locked, if it is still running under ``token``'s claim."""
    query = (
        select(*_COLUMNS)
        .where(
            lead_imports.c.id == import_id,
            lead_imports.c.claimed_by == token,
            lead_imports.c.status == "running",
        )
        .with_for_update()
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def add_errors(session: AsyncSession, import_id: uuid.UUID, errors: Sequence[LineError]) -> None:
    if errors:
        rows = [
            {"import_id": import_id, "line": e.line, "field": e.field, "message": e.message} for e in errors
        ]
        await session.execute(insert(lead_import_errors), rows)


async def advance(
    session: AsyncSession, import_id: uuid.UUID, progress: Progress, lease_seconds: float
) -> ImportRecord:
    c = lead_imports.c
    query = (
        update(lead_imports)
        .where(c.id == import_id)
        .values(
            lines_done=progress.lines_done,
            rows_done=c.rows_done + progress.rows,
            rows_created=c.rows_created + progress.created,
            rows_merged=c.rows_merged + progress.merged,
            rows_failed=c.rows_failed + progress.failed,
            lease_until=_lease(lease_seconds),
        )
        .returning(*_COLUMNS)
    )
    return _record((await session.execute(query)).one())


async def finish(session: AsyncSession, import_id: uuid.UUID, *, error: str | None = None) -> None:
    """Completed (or failed with ``error``); the stored file is deleted."""
    query = (
        update(lead_imports)
        .where(lead_imports.c.id == import_id)
        .values(
            status="completed" if error is None else "failed",
            error=error,
            claimed_by=None,
            lease_until=None,
            finished_at=func.clock_timestamp(),
        )
    )
    await session.execute(query)
    await session.execute(delete(lead_import_chunks).where(lead_import_chunks.c.import_id == import_id))


async def release(session: AsyncSession, import_id: uuid.UUID, token: str) -> None:
    """Give the job back (queued again) if ``token`` still holds it: another worker goes on at once."""
    query = (
        update(lead_imports)
        .where(
            lead_imports.c.id == import_id,
            lead_imports.c.claimed_by == token,
            lead_imports.c.status == "running",
        )
        .values(status="queued", claimed_by=None, lease_until=None)
    )
    await session.execute(query)


# --- leads ---------------------------------------------------------------------------------------------

_TYPES: dict[str, TypeEngine[Any]] = {"consent": Boolean(), "consent_at": DateTime(timezone=True)}
_ROW_COLUMNS: list[ColumnClause[Any]] = [
    column("id", Uuid()),
    *(column(name, _TYPES.get(name, Text())) for name in FIELDS),
    column("custom_fields", JSONB()),
]
_MERGED = [name for name in FIELDS if name != "phone"]


def _rows(name: str) -> Any:
    """The leads of a batch, from one JSON parameter: one row per object, a missing key is NULL."""
    source = func.jsonb_to_recordset(bindparam(name, type_=JSONB()))
    return source.table_valued(*_ROW_COLUMNS).render_derived(name="v", with_types=True)


async def insert_leads(
    session: AsyncSession, rows: list[dict[str, Any]], created_by: str, import_id: uuid.UUID
) -> set[str]:
    """Insert the leads whose phone is new; returns those phones (the others exist)."""
    v = _rows("rows")
    source = select(
        v.c.id,
        *(v.c[name] for name in FIELDS if name != "consent"),
        func.coalesce(v.c.consent, False),
        func.coalesce(v.c.custom_fields, literal({}, JSONB())),
        literal(created_by, Text()),
        literal(import_id, Uuid()),
    )
    names = [
        "id",
        *(n for n in FIELDS if n != "consent"),
        "consent",
        "custom_fields",
        "created_by",
        "import_id",
    ]
    query = (
        pg_insert(leads)
        .from_select(names, source)
        .on_conflict_do_nothing(index_elements=["phone"])
        .returning(leads.c.phone)
    )
    result = await session.execute(query, {"rows": rows})
    return set(result.scalars())


async def merge_leads(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Set the fields each row gives on the lead with its phone (custom fields key by key)."""
    v = _rows("rows")
    changes: dict[str, Any] = {name: func.coalesce(v.c[name], leads.c[name]) for name in _MERGED}
    changes["custom_fields"] = leads.c.custom_fields.op("||")(
        func.coalesce(v.c.custom_fields, literal({}, JSONB()))
    )
    query = (
        update(leads).where(leads.c.phone == v.c.phone).values(**changes, updated_at=func.clock_timestamp())
    )
    await session.execute(query, {"rows": rows})


async def join_campaign(session: AsyncSession, campaign_id: uuid.UUID, phones: list[str]) -> None:
    """The leads with these phones join the campaign (``pending``, due now); members stay as they are."""
    source = (
        select(campaigns.c.id, leads.c.id, func.clock_timestamp())
        .select_from(leads)
        .join(campaigns, campaigns.c.id == campaign_id)
        .where(leads.c.phone.in_(phones))
    )
    query = (
        pg_insert(campaign_leads)
        .from_select(["campaign_id", "lead_id", "next_attempt_at"], source)
        .on_conflict_do_nothing()
    )
    await session.execute(query)
