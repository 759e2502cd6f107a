"""Importing a list from CSV (a national registry copy can have millions of lines): read as it arrives, one
record at a time; valid rows are added in batches (``ON CONFLICT DO NOTHING``: an entry listed already, or
earlier in the file, is counted, not an error); invalid rows are counted and the first
:data:`~dialplane.api.do_not_call.MAX_IMPORT_ERRORS` reported with their line.

The columns are named by a header: ``number`` and, optionally, ``match`` (exact by default), ``reason`` and
``expires_at``; an export's ``source`` and ``created_at`` are allowed and ignored (the import is the
source). A cell that an export protected against formula injection (``'`` before ``= + - @``, tab or CR) is
read back without the ``'``; cells are trimmed, except ``reason``. Everything happens in the request's
transaction: all or nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar, cast

import structlog
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.do_not_call.csv_records import Record, records
from dialer.do_not_call.entries import check_expiry, stored_number
from dialer.do_not_call.export import FORMULA_STARTS
from dialer.errors import invalid_field
from dialer.policy import do_not_call as repository
from dialer.policy.do_not_call import Match, NewEntry
from dialplane.api.calls import Moment
from dialplane.api.do_not_call import (
    EXPORT_COLUMNS,
    IMPORT_COLUMNS,
    MAX_IMPORT_ERRORS,
    MAX_REASON_LENGTH,
    ImportResult,
    ImportRowError,
)
from dialplane.errors import ValidationFailed
from dialplane.internal_auth import Principal
from dialplane.metrics import NAMESPACE

log = structlog.get_logger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

IMPORT_ROWS = Counter(
    "dialer_do_not_call_import_rows_total",
    "Rows of do-not-call imports, by result (added, already_listed, invalid).",
    ["result"],
    namespace=NAMESPACE,
)
BATCH_SIZE = 1000
SOURCE = "import"
_MOMENT: TypeAdapter[dt.datetime] = TypeAdapter(Moment)
_HEADER_HINT = "the first line names the columns: number[,match][,reason][,expires_at]"


class RowInvalidError(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class _Report:
    added: int = 0
    already_listed: int = 0
    invalid: int = 0
    errors: list[ImportRowError] = field(default_factory=list)

    def fail(self, line: int, column: str | None, message: str) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_IMPORT_ERRORS:
            self.errors.append(ImportRowError(line=line, field=column, message=message))


@dataclass(frozen=True, slots=True)
class _Target:
    """Where the rows go and who sends them."""

    campaign_id: uuid.UUID | None
    created_by: str
    now: dt.datetime


async def import_csv(
    session: AsyncSession, chunks: AsyncIterable[bytes], campaign_id: uuid.UUID | None, principal: Principal
) -> ImportResult:
    """Add the file's entries to the list (the campaign's, or the global one)."""
    rows = records(chunks)
    columns = await _header(rows)
    target, report = _Target(campaign_id, principal.id, dt.datetime.now(dt.UTC)), _Report()
    batch: list[NewEntry] = []
    async for record in rows:
        try:
            batch.append(_entry(record, columns, target))
        except RowInvalidError as exc:
            report.fail(record.line, exc.field, exc.message)
        if len(batch) >= BATCH_SIZE:
            await _flush(session, batch, report)
    await _flush(session, batch, report)
    _counted(report, campaign_id)
    return ImportResult(
        added=report.added, already_listed=report.already_listed, invalid=report.invalid, errors=report.errors
    )


async def _header(rows: AsyncIterator[Record]) -> list[str]:
    """The column names (lower case); a 422 naming ``header`` if the first record is not a valid header."""
    first = await anext(rows, None)
    if first is None:
        raise invalid_field("header", f"the file is empty; {_HEADER_HINT}")
    if first.cells is None:
        raise invalid_field("header", f"line {first.line}: {first.error}")
    columns = [_unescaped(cell).strip().lower() for cell in first.cells]
    problem = _header_problem(columns)
    if problem is not None:
        raise invalid_field("header", f"{problem}; {_HEADER_HINT}")
    return columns


def _header_problem(columns: list[str]) -> str | None:
    unknown = [name for name in columns if name not in IMPORT_COLUMNS and name not in EXPORT_COLUMNS]
    if unknown:
        return f"unknown column {', '.join(map(repr, unknown))}"
    if "number" not in columns:
        return "no 'number' column"
    if len(set(columns)) != len(columns):
        return "a column is named twice"
    return None


def _entry(record: Record, columns: list[str], target: _Target) -> NewEntry:
    if record.cells is None:
        raise RowInvalidError(None, record.error or "unreadable")
    if len(record.cells) > len(columns):
        raise RowInvalidError(None, f"{len(record.cells)} cells but the header names {len(columns)} columns")
    cells = {name: _cell(name, cell) for name, cell in zip(columns, record.cells, strict=False)}
    if not cells.get("number"):
        raise RowInvalidError("number", "missing")
    match = _match(cells.get("match", ""))
    expires_at = _expiry(cells.get("expires_at", ""), target.now)
    return NewEntry(
        number=_field_checked(stored_number, cells["number"], match),
        match=match,
        campaign_id=target.campaign_id,
        reason=_reason(cells.get("reason", "")),
        source=SOURCE,
        created_by=target.created_by,
        expires_at=expires_at,
    )


def _cell(column: str, cell: str) -> str:
    """The cell's value: unescaped, and without surrounding spaces except in ``reason`` (kept as written)."""
    value = _unescaped(cell)
    return value if column == "reason" else value.strip()


def _unescaped(cell: str) -> str:
    """The cell without the ``'`` an export put before a character that starts a spreadsheet formula."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def _match(cell: str) -> Match:
    value = cell.lower() or "exact"
    if value not in ("exact", "prefix"):
        raise RowInvalidError("match", f"'exact' or 'prefix', not {cell!r}")
    return cast(Match, value)


def _reason(cell: str) -> str | None:
    if len(cell) > MAX_REASON_LENGTH:
        raise RowInvalidError("reason", f"at most {MAX_REASON_LENGTH} characters")
    return cell or None


def _expiry(cell: str, now: dt.datetime) -> dt.datetime | None:
    if not cell:
        return None
    try:
        expires_at = _MOMENT.validate_python(cell)
    except ValidationError:
        raise RowInvalidError("expires_at", f"not an ISO 8601 date or time: {cell!r}") from None
    _field_checked(check_expiry, expires_at, now)
    return expires_at


def _field_checked(check: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``check(...)``, its field error (a 422 of the API) turned into the row's error."""
    try:
        return check(*args, **kwargs)
    except ValidationFailed as exc:
        (error, *_) = exc.extra["errors"]
        raise RowInvalidError(error["field"], error["message"]) from None


async def _flush(session: AsyncSession, batch: list[NewEntry], report: _Report) -> None:
    added = await repository.insert_batch(session, batch)
    report.added += added
    report.already_listed += len(batch) - added
    batch.clear()


def _counted(report: _Report, campaign_id: uuid.UUID | None) -> None:
    for result in ("added", "already_listed", "invalid"):
        IMPORT_ROWS.labels(result).inc(getattr(report, result))
    log.info(
        "do_not_call_imported",
        campaign_id=None if campaign_id is None else str(campaign_id),
        added=report.added,
        already_listed=report.already_listed,
        invalid=report.invalid,
    )
