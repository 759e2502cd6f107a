"""API keys: creating, listing, disabling and rotating them, and checking one a request presents.

A new or rotated key is returned once (:class:`IssuedKey`); only the hash of its secret is stored. Rotation
keeps the id (so the principal, its rate limit and its history stay the same) and replaces the secret: the
old key stops working at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.errors import Conflict, NotFound
from gateway.api_keys import keys, repository
from gateway.api_keys.repository import ApiKey
from gateway.auth.errors import InvalidCredentialsError
from gateway.auth.scopes import checked_scopes

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    api_key: ApiKey
    key: str  # shown once to the caller, never stored nor logged

    def __repr__(self) -> str:
        return f"IssuedKey(api_key={self.api_key!r}, key=...)"


async def create_api_key(
    session: AsyncSession,
    name: str,
    scopes: Iterable[str],
    rate_limit_per_minute: int,
    created_by: str,
) -> IssuedKey:
    parts = keys.KeyParts(keys.new_id(), keys.new_secret())
    values = {
        "id": parts.id,
        "name": name,
        "secret_hash": keys.hash_secret(parts.secret),
        "scopes": checked_scopes(scopes),
        "rate_limit_per_minute": rate_limit_per_minute,
        "created_by": created_by,
    }
    api_key = await repository.insert(session, values)
    log.info(
        "api_key_created", api_key_id=api_key.id, name=name, scopes=" ".join(api_key.scopes), by=created_by
    )
    return IssuedKey(api_key, str(parts))


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return await repository.list_all(session)


async def disable_api_key(session: AsyncSession, key_id: str) -> ApiKey:
    api_key = _found(await repository.disable(session, key_id), key_id)
    log.info("api_key_disabled", api_key_id=key_id)
    return api_key


async def rotate_api_key(session: AsyncSession, key_id: str) -> IssuedKey:
    parts = keys.KeyParts(key_id, keys.new_secret())
    rotated = await repository.replace_secret(session, key_id, keys.hash_secret(parts.secret))
    if rotated is None:
        _found(await repository.get(session, key_id), key_id)
        raise Conflict(f"API key {key_id} is disabled; create a new one instead", code="api_key_disabled")
    log.info("api_key_rotated", api_key_id=key_id)
    return IssuedKey(rotated, str(parts))


async def check_api_key(session: AsyncSession, key: str) -> ApiKey:
    """The enabled key that ``key`` names and whose secret matches; :class:`InvalidCredentialsError` else."""
    parts = keys.parse_key(key)
    if parts is None:
        raise InvalidCredentialsError("malformed_api_key", "the API key is not of the form dpk_<id>_<secret>")
    api_key = await repository.get(session, parts.id)
    if not keys.secret_matches(parts.secret, None if api_key is None else api_key.secret_hash):
        raise InvalidCredentialsError("invalid_api_key", "the API key is not valid")
    assert api_key is not None
    if api_key.disabled:
        raise InvalidCredentialsError("api_key_disabled", "the API key is disabled")
    await repository.mark_used(session, api_key.id)
    return api_key


def _found(api_key: ApiKey | None, key_id: str) -> ApiKey:
    if api_key is None:
        raise NotFound(f"no API key {key_id}", code="no_such_api_key")
    return api_key
