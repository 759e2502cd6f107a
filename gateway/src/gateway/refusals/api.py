"""The public dial refusals: declared with the dialer's models, scope-checked, forwarded to the dialer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from dialplane.api.refusals import DIAL_REFUSALS, DialRefusalList, ListDialRefusalsQuery
from dialplane.internal_auth import Principal
from gateway.auth.dependencies import requires
from gateway.calls.forward import DialerDep

router = APIRouter(tags=["dial_refusals"])


@router.get(DIAL_REFUSALS, response_model=DialRefusalList, summary="Dials refused by a rule, newest first")
async def list_refusals(
    _query: Annotated[ListDialRefusalsQuery, Query()],
    request: Request,
    principal: Annotated[Principal, requires("campaigns:read")],
    dialer: DialerDep,
) -> Response:
    """Numbers are masked unless the caller has ``do_not_call:read`` (or ``admin``)."""
    return await dialer.forward(request, principal)
