"""The public lead import routes, forwarded to the dialer, which owns leads. The upload is passed on as it
arrives (:meth:`~gateway.calls.forward.Forwarder.forward_stream`), never read here: its size limit is the
upload limit (``max_upload_bytes``), not the one of other bodies."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from dialplane.api.lead_imports import (
    IMPORT_REQUEST_BODY,
    LEAD_IMPORT,
    LEAD_IMPORT_ERRORS,
    LEAD_IMPORT_JOB,
    LeadImport,
    LeadImportErrorList,
    ListImportErrorsQuery,
)
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import requires
from gateway.calls.forward import DialerDep

router = APIRouter(tags=["lead imports"])

CanRead = Annotated[Principal, requires("leads:read")]
CanWrite = Annotated[Principal, requires("leads:write")]


@router.post(
    LEAD_IMPORT,
    status_code=202,
    response_model=LeadImport,
    openapi_extra=IMPORT_REQUEST_BODY,
    responses={
        413: {"description": "the file is larger than the upload limit"},
        422: {"description": "not a usable CSV upload, or an unknown campaign; nothing is stored"},
    },
    summary="Import leads from a CSV file",
)
async def import_leads(request: Request, principal: CanWrite, dialer: DialerDep) -> Response:
    """Stores the file and queues its import: 202 + ``Location`` with the job, to follow until it is
    ``completed`` (or ``failed``)."""
    return await dialer.forward_stream(request, principal)


@router.get(
    LEAD_IMPORT_JOB,
    response_model=LeadImport,
    responses={404: {"description": "no such import (lead_import_not_found)"}},
    summary="A lead import's progress",
)
async def get_import(import_id: UUID, request: Request, principal: CanRead, dialer: DialerDep) -> Response:
    return await dialer.forward(request, principal)


@router.get(
    LEAD_IMPORT_ERRORS,
    response_model=LeadImportErrorList,
    responses={404: {"description": "no such import (lead_import_not_found)"}},
    summary="A lead import's refused rows, by line",
)
async def list_import_errors(
    import_id: UUID,
    _query: Annotated[ListImportErrorsQuery, Query()],
    request: Request,
    principal: CanRead,
    dialer: DialerDep,
) -> Response:
    return await dialer.forward(request, principal)
