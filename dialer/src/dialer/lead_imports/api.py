"""The lead import API (``/api/v1/leads/import``, ``/api/v1/leads/imports/…``), reached through the gateway
with a signed principal header. The upload is read as it arrives (never as a form held in memory)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from dialer.lead_imports import service, upload, views
from dialer.settings import Settings
from dialplane.api.lead_imports import (
    IMPORT_REQUEST_BODY,
    LEAD_IMPORT,
    LEAD_IMPORT_ERRORS,
    LEAD_IMPORT_JOB,
    LeadImport,
    LeadImportErrorList,
    ListImportErrorsQuery,
)
from dialplane.db import SessionDep
from dialplane.errors import BadRequest, DialplaneError
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["lead imports"])

CanRead = Annotated[Principal, requires("leads:read")]
CanWrite = Annotated[Principal, requires("leads:write")]

_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "not a multipart upload, no usable CSV (empty, no header, no phone column), or an "
        "unknown campaign; nothing is stored"
    }
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such import (lead_import_not_found)"}}


@router.post(
    LEAD_IMPORT,
    status_code=202,
    response_model=LeadImport,
    responses=_REFUSED,
    openapi_extra=IMPORT_REQUEST_BODY,
    summary="Import leads from a CSV file",
)
async def import_leads(principal: CanWrite, request: Request, session: SessionDep) -> JSONResponse:
    """Store the file and queue its import: 202 + ``Location`` with the job (``queued``)."""
    settings: Settings = request.app.state.settings
    body = request.stream()
    content_type = request.headers.get("content-type")
    try:
        job = await upload.receive(session, principal, body, content_type, settings.import_max_line_bytes)
    except DialplaneError:
        await _drain(body)
        raise
    except ClientDisconnect:  # nobody is left to answer; nothing is stored
        raise BadRequest("the upload ended before its body was complete", code="upload_incomplete") from None
    return JSONResponse(views.job_json(job), status_code=202, headers={"Location": views.job_location(job)})


@router.get(
    LEAD_IMPORT_JOB, response_model=LeadImport, responses=_NOT_FOUND, summary="A lead import's progress"
)
async def get_import(_: CanRead, import_id: uuid.UUID, session: SessionDep) -> LeadImport:
    return views.job_view(await service.get(session, import_id))


@router.get(
    LEAD_IMPORT_ERRORS,
    response_model=LeadImportErrorList,
    responses=_NOT_FOUND,
    summary="A lead import's refused rows, by line",
)
async def list_import_errors(
    _: CanRead,
    import_id: uuid.UUID,
    query: Annotated[ListImportErrorsQuery, Query()],
    session: SessionDep,
) -> LeadImportErrorList:
    page = await service.errors(session, import_id, query)
    return LeadImportErrorList(items=[views.error_view(e) for e in page.items], next_cursor=page.next_cursor)


async def _drain(body: AsyncIterator[bytes]) -> None:
    """Read the rest of a refused upload, so that a client still sending it (the gateway streams) gets the
    answer instead of a reset connection."""
    with contextlib.suppress(Exception):
        async for _ in body:
            pass
