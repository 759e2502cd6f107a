"""How internal services know who is asking: the gateway authenticates the client, then signs the resulting
principal into a short-lived token that it sends to the internal service in :data:`PRINCIPAL_HEADER`.

The token is a JWT (HS256, pinned) signed with the shared ``internal_token`` setting, audience
:data:`INTERNAL_AUDIENCE`, valid for a minute. An internal service never trusts a bare user id: a request
without a valid token is answered 401, one whose principal lacks the scope 403.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from jose import JWTError, jwt

from dialplane.errors import Forbidden, Unauthorized

PRINCIPAL_HEADER = "X-Dialplane-Principal"
INTERNAL_AUDIENCE = "dialplane-internal"
INTERNAL_ISSUER = "dialplane-gateway"
ALGORITHM = "HS256"
TOKEN_TTL_SECONDS = 60

PrincipalKind = Literal["user", "api_key"]

SCOPES = (
    "calls:read",
    "calls:write",
    "campaigns:read",
    "campaigns:write",
    "leads:read",
    "leads:write",
    "agents:read",
    "agents:write",
    "meetings:read",
    "meetings:write",
    "do_not_call:read",
    "do_not_call:write",
    "analytics:read",
    "admin",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request: a user or an API key, with its scopes. ``id`` is stable (``user:alice``,
    ``api_key:<key id>``) and is what idempotency keys, rate limits and audit records use."""

    id: str
    kind: PrincipalKind
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def sign_principal(principal: Principal, secret: str, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": principal.id,
        "kind": principal.kind,
        "name": principal.name,
        "scope": " ".join(sorted(principal.scopes)),
        "aud": INTERNAL_AUDIENCE,
        "iss": INTERNAL_ISSUER,
        "iat": issued,
        "exp": issued + TOKEN_TTL_SECONDS,
    }
    return str(jwt.encode(claims, secret, algorithm=ALGORITHM))


def verify_principal(token: str, secret: str) -> Principal:
    """The principal of a token signed by :func:`sign_principal`; :class:`Unauthorized` otherwise."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], audience=INTERNAL_AUDIENCE, issuer=INTERNAL_ISSUER
        )
    except JWTError as exc:
        raise Unauthorized(f"invalid internal principal token: {exc}", code="invalid_internal_token") from exc
    kind = claims.get("kind")
    if kind not in ("user", "api_key") or not isinstance(claims.get("sub"), str):
        raise Unauthorized("invalid internal principal token: bad claims", code="invalid_internal_token")
    return Principal(
        id=claims["sub"],
        kind=kind,
        name=str(claims.get("name", "")),
        scopes=frozenset(str(claims.get("scope", "")).split()),
    )


async def internal_principal(request: Request) -> Principal:
    """The principal the gateway vouches for (dependency of internal routes)."""
    token = request.headers.get(PRINCIPAL_HEADER)
    if not token:
        raise Unauthorized(
            f"missing {PRINCIPAL_HEADER}: internal services are reached through the gateway",
            code="missing_internal_token",
        )
    secret: str = request.app.state.settings.internal_token.get_secret_value()
    return verify_principal(token, secret)


InternalPrincipal = Annotated[Principal, Depends(internal_principal)]


def requires(scope: str) -> Any:
    """A dependency that returns the principal if it has ``scope`` (or ``admin``), else 403."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def dependency(principal: InternalPrincipal) -> Principal:
        if not principal.allows(scope):
            raise Forbidden(f"this operation needs the scope {scope!r}", code="insufficient_scope")
        return principal

    return Depends(dependency)
