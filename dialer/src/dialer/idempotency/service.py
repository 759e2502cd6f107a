"""Idempotency keys: the same key with the same request replays the first response; with another request
it is refused (422 ``idempotency_key_reused``).

Keys are per principal. The key is claimed with an ``INSERT`` in the request's transaction, before any
other work, and the response is stored in the same transaction: a concurrent request with the same key
waits on the primary key until the first one commits, then replays its response (or, if the first rolled
back, proceeds as the first). So one key never creates two calls, and no Python lock is involved.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.idempotency import repository
from dialplane.api.routes import IDEMPOTENCY_HEADER
from dialplane.db import RetryableTransactionError
from dialplane.errors import Conflict, ValidationFailed


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response as it is sent, and replayed."""

    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False  # a replay of the first response to the same key


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    principal_id: str
    key: str
    request_hash: str


def fingerprint(route: str, request: Mapping[str, Any]) -> str:
    """A hash of the route and what the request asks for: pass the request parsed and normalised, so that
    formatting (key order, spaces in a number, defaults given or not) does not make it another request."""
    text = json.dumps(
        {"route": route, "request": request}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


async def begin(session: AsyncSession, key: IdempotencyKey) -> StoredResponse | None:
    """Claim the key (None: go ahead and call :func:`finish`), or the first response to replay."""
    if await repository.claim(session, key.principal_id, key.key, key.request_hash):
        return None
    stored = await repository.get(session, key.principal_id, key.key)
    if stored is None:
        raise RetryableTransactionError("the idempotency key disappeared meanwhile; rerun")
    if stored.request_hash != key.request_hash:
        raise _reused()
    if stored.status_code is None or stored.response is None:
        raise Conflict(
            "a request with this Idempotency-Key is in progress", code="idempotency_key_in_progress"
        )
    return StoredResponse(
        stored.status_code, stored.response["body"], stored.response["headers"], replayed=True
    )


async def finish(
    session: AsyncSession, key: IdempotencyKey, response: StoredResponse, call_id: uuid.UUID | None
) -> None:
    await repository.store_response(
        session,
        key.principal_id,
        key.key,
        status_code=response.status_code,
        response={"body": response.body, "headers": response.headers},
        call_id=call_id,
    )


def _reused() -> ValidationFailed:
    message = "this key was used with a different request; use a new key for a new request"
    return ValidationFailed(
        f"{IDEMPOTENCY_HEADER} reused with a different request",
        code="idempotency_key_reused",
        extra={
            "errors": [{"field": IDEMPOTENCY_HEADER, "message": message, "type": "idempotency_key_reused"}]
        },
    )
