"""The do-not-call API (``/api/v1/do-not-call``), reached through the gateway with a signed principal header.

``/check``, ``/import`` and ``/export`` are declared before ``/{entry_id}``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from dialer.do_not_call import imports, service
from dialer.do_not_call.export import export_csv
from dialer.do_not_call.upload import csv_chunks
from dialer.policy.do_not_call import DoNotCallEntry as StoredEntry
from dialplane.api.do_not_call import (
    DO_NOT_CALL,
    DO_NOT_CALL_CHECK,
    DO_NOT_CALL_ENTRY,
    DO_NOT_CALL_EXPORT,
    DO_NOT_CALL_IMPORT,
    EXPORT_RESPONSE,
    IMPORT_REQUEST_BODY,
    MAX_ENTRY_ID,
    AddEntryRequest,
    CheckQuery,
    CheckResult,
    DoNotCallEntry,
    DoNotCallList,
    ImportResult,
    ListDoNotCallQuery,
    ListQuery,
)
from dialplane.db import SessionDep, SessionFactory, get_session_factory
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["do_not_call"])

CanRead = Annotated[Principal, requires("do_not_call:read")]
CanWrite = Annotated[Principal, requires("do_not_call:write")]
EntryId = Annotated[int, Path(ge=1, le=MAX_ENTRY_ID)]
_LISTED: dict[int | str, dict[str, Any]] = {
    409: {"description": "an identical entry is listed already (code already_listed, with its id)"}
}


def entry_view(entry: StoredEntry) -> DoNotCallEntry:
    return DoNotCallEntry.model_validate(asdict(entry))


@router.get(DO_NOT_CALL, response_model=DoNotCallList)
async def list_entries(
    _: CanRead, query: Annotated[ListDoNotCallQuery, Query()], session: SessionDep
) -> DoNotCallList:
    """One list (the campaign's, or the global one), newest first, a page at a time."""
    page = await service.list_entries(session, query)
    return DoNotCallList(items=[entry_view(e) for e in page.items], next_cursor=page.next_cursor)


@router.post(DO_NOT_CALL, status_code=201, response_model=DoNotCallEntry, responses=_LISTED)
async def add_entry(
    principal: CanWrite, body: AddEntryRequest, session: SessionDep, response: Response
) -> DoNotCallEntry:
    entry = await service.add(session, principal, body)
    response.headers["Location"] = f"{DO_NOT_CALL}/{entry.id}"
    return entry_view(entry)


@router.get(DO_NOT_CALL_CHECK, response_model=CheckResult)
async def check_number(_: CanRead, query: Annotated[CheckQuery, Query()], session: SessionDep) -> CheckResult:
    """Whether a dial to the number would be refused by the do-not-call rule, and by which entry."""
    entry = await service.check(session, query)
    return CheckResult(blocked=entry is not None, entry=None if entry is None else entry_view(entry))


@router.post(DO_NOT_CALL_IMPORT, response_model=ImportResult, openapi_extra=IMPORT_REQUEST_BODY)
async def import_entries(
    principal: CanWrite, query: Annotated[ListQuery, Query()], request: Request, session: SessionDep
) -> ImportResult:
    """Add a CSV's entries (read as it arrives) to the list; the rows that cannot be added are reported."""
    await service.require_campaign(session, query.campaign_id)
    async with csv_chunks(request) as chunks:
        return await imports.import_csv(session, chunks, query.campaign_id, principal)


@router.get(DO_NOT_CALL_EXPORT, response_class=StreamingResponse, responses=EXPORT_RESPONSE)
async def export_entries(
    _: CanRead,
    query: Annotated[ListQuery, Query()],
    session: SessionDep,
    sessions: Annotated[SessionFactory, Depends(get_session_factory)],
) -> StreamingResponse:
    """The list's entries in force as CSV, streamed."""
    await service.require_campaign(session, query.campaign_id)
    return StreamingResponse(
        export_csv(sessions, query.campaign_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="do-not-call.csv"'},
    )


@router.get(DO_NOT_CALL_ENTRY, response_model=DoNotCallEntry)
async def get_entry(_: CanRead, entry_id: EntryId, session: SessionDep) -> DoNotCallEntry:
    return entry_view(await service.get(session, entry_id))


@router.delete(DO_NOT_CALL_ENTRY, status_code=204, response_class=Response)
async def delete_entry(principal: CanWrite, entry_id: EntryId, session: SessionDep) -> Response:
    """Take the entry off its list: the number may be dialed again (unless another entry forbids it)."""
    await service.remove(session, principal, entry_id)
    return Response(status_code=204)
