"""``POST /api/v1/token`` (OAuth2 password grant) and ``GET /api/v1/me``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from dialplane.db import SessionDep
from dialplane.internal_auth import PrincipalKind
from gateway.auth import service
from gateway.auth.dependencies import CurrentPrincipal, RateLimiterDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (not a secret)
    expires_in: int
    scope: str


class MeResponse(BaseModel):
    id: str
    kind: PrincipalKind
    name: str
    scopes: list[str]


@router.post("/token", summary="Log in: an access token for a user name and password (OAuth2 password grant)")
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    response: Response,
) -> TokenResponse:
    token = await service.login(
        session,
        settings,
        limiter,
        username=form.username,
        password=form.password,
        requested_scope=" ".join(form.scopes),
    )
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(
        access_token=token.token, expires_in=token.expires_in, scope=" ".join(sorted(token.scopes))
    )


@router.get("/me", summary="Who the credentials belong to, and their scopes")
async def me(principal: CurrentPrincipal) -> MeResponse:
    return MeResponse(
        id=principal.id, kind=principal.kind, name=principal.name, scopes=sorted(principal.scopes)
    )
