"""The public do-not-call API: declared here with the dialer's models (validated and documented at the
edge), scope-checked, then forwarded to the dialer, which owns the lists.

The import's CSV and the export's answer pass through :meth:`Forwarder.forward`, which holds a whole body in
memory: an import through the gateway is bounded by ``GATEWAY_MAX_BODY_BYTES`` (larger files: split them,
or raise the limit), and an export is buffered here before it is sent on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

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
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import requires
from gateway.calls.forward import DialerDep

router = APIRouter(tags=["do_not_call"])

CanRead = Annotated[Principal, requires("do_not_call:read")]
CanWrite = Annotated[Principal, requires("do_not_call:write")]
EntryId = Annotated[int, Path(ge=1, le=MAX_ENTRY_ID)]
_LISTED: dict[int | str, dict[str, object]] = {
    409: {"description": "an identical entry is listed already (code already_listed, with its id)"}
}


@router.get(DO_NOT_CALL, response_model=DoNotCallList, summary="A do-not-call list, newest first")
async def list_entries(
    _query: Annotated[ListDoNotCallQuery, Query()], request: Request, principal: CanRead, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.post(
    DO_NOT_CALL, status_code=201, response_model=DoNotCallEntry, responses=_LISTED, summary="List a number"
)
async def add_entry(
    _body: AddEntryRequest, request: Request, principal: CanWrite, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(DO_NOT_CALL_CHECK, response_model=CheckResult, summary="Whether a number may be dialed")
async def check_number(
    _query: Annotated[CheckQuery, Query()], request: Request, principal: CanRead, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.post(
    DO_NOT_CALL_IMPORT,
    response_model=ImportResult,
    openapi_extra=IMPORT_REQUEST_BODY,
    summary="Import a list from CSV",
)
async def import_entries(
    _query: Annotated[ListQuery, Query()], request: Request, principal: CanWrite, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(
    DO_NOT_CALL_EXPORT, response_class=Response, responses=EXPORT_RESPONSE, summary="Export a list as CSV"
)
async def export_entries(
    _query: Annotated[ListQuery, Query()], request: Request, principal: CanRead, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)


@router.get(DO_NOT_CALL_ENTRY, response_model=DoNotCallEntry, summary="A do-not-call entry")
async def get_entry(entry_id: EntryId, request: Request, principal: CanRead, dialer: DialerDep) -> Response:
    return await dialer.forward(request, principal)


@router.delete(
    DO_NOT_CALL_ENTRY, status_code=204, response_class=Response, summary="Take an entry off its list"
)
async def delete_entry(
    entry_id: EntryId, request: Request, principal: CanWrite, dialer: DialerDep
) -> Response:
    return await dialer.forward(request, principal)
