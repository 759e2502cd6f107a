"""FastAPI dependencies: who is calling, whether it may, and whether it is within its rate limit.

- :func:`authenticate` → the :class:`~dialplane.internal_auth.Principal` of an ``Authorization: Bearer``
  token or an ``X-API-Key`` (401 with a ``WWW-Authenticate`` challenge otherwise); no rate limit;
- :data:`CurrentPrincipal` → the same, counted against the principal's rate limit (429 with ``Retry-After``);
- :func:`requires` → ``Depends`` that also demands a scope (or ``admin``); 403 naming the scope otherwise::

      @router.post("/calls")
      async def place_call(principal: Annotated[Principal, requires("calls:write")]) -> ...
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from dialplane.db import SessionFactory, get_session_factory, transaction
from dialplane.errors import Forbidden, RateLimited, Unauthorized
from dialplane.internal_auth import SCOPES, Principal
from gateway.auth.errors import InvalidCredentialsError
from gateway.auth.metrics import AUTH_FAILURES, RATE_LIMITED
from gateway.auth.rate_limit import RateLimiter, retry_after_header
from gateway.auth.service import BEARER_CHALLENGE, Caller, caller_from_api_key, caller_from_token
from gateway.settings import Settings

log = structlog.get_logger(__name__)

TOKEN_URL = "/api/v1/token"  # noqa: S105 (a path, not a secret)
API_KEY_HEADER = "X-API-Key"

_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False, scopes=dict.fromkeys(SCOPES, ""))
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_rate_limiter(request: Request) -> RateLimiter:
    """The limiter made in the gateway's ``lifespan()`` (tests may override this)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


SettingsDep = Annotated[Settings, Depends(get_settings)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


async def identify(
    sessions: Annotated[SessionFactory, Depends(get_session_factory)],
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Caller:
    """The caller behind the request's credentials (resolved once per request), in a short transaction of
    its own: a forwarded request must not hold a database connection while the internal service answers."""
    try:
        if token and api_key:
            detail = "send a bearer token or an API key, not both"
            raise InvalidCredentialsError("ambiguous_credentials", detail)
        if token:
            async with transaction(sessions) as session:
                return await caller_from_token(session, settings, token)
        if api_key:
            async with transaction(sessions) as session:
                return await caller_from_api_key(session, api_key)
    except InvalidCredentialsError as exc:
        raise _unauthorized(exc.reason, exc.detail, token_given=bool(token)) from None
    raise _unauthorized(
        "missing_credentials",
        f"authentication required: send 'Authorization: Bearer <token>' or '{API_KEY_HEADER}: <key>'",
    )


def _unauthorized(reason: str, detail: str, *, token_given: bool = False) -> Unauthorized:
    AUTH_FAILURES.labels(reason).inc()
    log.info("authentication_refused", reason=reason)
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if token_given else BEARER_CHALLENGE
    code = "invalid_token" if token_given else "unauthorized"
    return Unauthorized(detail, code=code, headers=headers, extra={"reason": reason})


CallerDep = Annotated[Caller, Depends(identify)]


async def authenticate(caller: CallerDep) -> Principal:
    """The request's principal (401 without valid credentials); not rate-limited."""
    return caller.principal


async def current_principal(caller: CallerDep, limiter: RateLimiterDep) -> Principal:
    """The request's principal, counted against its rate limit (429 with ``Retry-After`` when over it)."""
    wait = limiter.take(caller.principal.id, caller.rate_limit_per_minute)
    if wait > 0:
        RATE_LIMITED.labels(caller.principal.kind).inc()
        raise RateLimited(
            f"more than {caller.rate_limit_per_minute} requests per minute; retry in {wait:.1f} s",
            headers={"Retry-After": retry_after_header(wait)},
            extra={"limit_per_minute": caller.rate_limit_per_minute},
        )
    return caller.principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def requires(scope: str) -> Any:
    """``Depends`` returning the (rate-limited) principal if it holds ``scope`` or ``admin``, else 403."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def principal_with_scope(principal: CurrentPrincipal) -> Principal:
        if not principal.allows(scope):
            AUTH_FAILURES.labels("insufficient_scope").inc()
            raise Forbidden(
                f"this operation needs the scope {scope!r}",
                code="insufficient_scope",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
                extra={"required_scope": scope},
            )
        return principal

    return Depends(principal_with_scope)
