"""The dial refusals (``/api/v1/dial-refusals``): every dial a rule refused, for operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dialer.refusals import service
from dialplane.api.refusals import DIAL_REFUSALS, DialRefusalList, ListDialRefusalsQuery
from dialplane.db import SessionDep
from dialplane.internal_auth import Principal, requires

router = APIRouter(tags=["dial_refusals"])


@router.get(DIAL_REFUSALS, response_model=DialRefusalList)
async def list_refusals(
    principal: Annotated[Principal, requires("campaigns:read")],
    query: Annotated[ListDialRefusalsQuery, Query()],
    session: SessionDep,
) -> DialRefusalList:
    """Refused dials, newest first, a page at a time; numbers masked without ``do_not_call:read``."""
    return await service.list_refusals(session, query, principal)
