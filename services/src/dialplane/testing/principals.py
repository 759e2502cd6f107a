"""Forged and missing principals for the tests that prove an internal service serves only requests the gateway
signed: every API route of an app (found in the application, not listed by hand), whether it depends on the
signed principal, and every way a principal header can be wrong."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from jose import jwt

from dialplane.internal_auth import (
    INTERNAL_AUDIENCE,
    INTERNAL_ISSUER,
    Principal,
    internal_principal,
    sign_principal,
)
from dialplane.testing.database import TEST_INTERNAL_TOKEN

PROBES = {"/health", "/ready", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect"}
ADMIN = Principal(id="api_key:test", kind="api_key", name="test key", scopes=frozenset({"admin"}))


def depends_on_principal(dependant: Dependant) -> bool:
    return dependant.call is internal_principal or any(map(depends_on_principal, dependant.dependencies))


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """(method, path with its parameters filled in, whether it depends on the principal) of every route
    but the probes."""
    for context in iter_route_contexts(app.routes):
        if context.path in PROBES:
            continue
        assert isinstance(context.original_route, APIRoute), context.path
        path = str(context.path).replace("{number}", "12025550100")
        while "{" in path:
            start, end = path.index("{"), path.index("}")
            path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
        for method in sorted(context.methods or ()):
            yield method, path, depends_on_principal(context.dependant)


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    base = {"sub": ADMIN.id, "kind": "api_key", "scope": "admin", "aud": INTERNAL_AUDIENCE}
    return base | {"iss": INTERNAL_ISSUER, "iat": now, "exp": now + 60} | changes


def bad_principals() -> dict[str, str]:
    unsigned = jwt.encode(claims(), "x").rsplit(".", 1)[0].split(".", 1)[1]
    return {
        "garbage": "not-a-token",
        "another secret": sign_principal(ADMIN, "another-internal-token-entirely"),
        "expired": sign_principal(ADMIN, TEST_INTERNAL_TOKEN, now=time.time() - 3600),
        "not yet valid": jwt.encode(
            claims(iat=int(time.time()) + 3600, nbf=int(time.time()) + 3600), TEST_INTERNAL_TOKEN
        ),
        "alg none": f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{unsigned}.",
        "another algorithm": jwt.encode(claims(), TEST_INTERNAL_TOKEN, algorithm="HS512"),
        "another audience": jwt.encode(claims(aud="dialplane-api"), TEST_INTERNAL_TOKEN),
        "another issuer": jwt.encode(claims(iss="someone-else"), TEST_INTERNAL_TOKEN),
        "no subject": jwt.encode(claims(sub=None), TEST_INTERNAL_TOKEN),
        "an unknown kind": jwt.encode(claims(kind="service"), TEST_INTERNAL_TOKEN),
    }
