"""Logging in (password → access token) and turning presented credentials into a :class:`Caller`.

Login: the password is checked even for an unknown user (against a dummy hash) and both mistakes get the same
answer. Failed logins per user name are rate-limited (``login_failures_per_minute``) against guessing.

A token is checked against its user on every request: a disabled user, or a password changed since the token
was issued, refuses it; its scopes are those the user still holds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dialplane.errors import BadRequest, RateLimited, Unauthorized
from dialplane.internal_auth import Principal
from gateway.api_keys.service import check_api_key
from gateway.auth import scopes as scope_rules
from gateway.auth.errors import InvalidCredentialsError
from gateway.auth.metrics import AUTH_FAILURES, LOGINS, RATE_LIMITED
from gateway.auth.passwords import dummy_verify, verify_password
from gateway.auth.rate_limit import RateLimiter, retry_after_header
from gateway.auth.tokens import AccessToken, decode_token, issue_token, microseconds
from gateway.settings import Settings
from gateway.users import repository as users
from gateway.users.repository import User

log = structlog.get_logger(__name__)

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated principal and the rate limit that applies to it."""

    principal: Principal
    rate_limit_per_minute: int


async def login(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    *,
    username: str,
    password: str,
    requested_scope: str = "",
) -> AccessToken:
    """An access token for the user, with the requested scopes (default: all it holds)."""
    limit_key = f"login:{username.lower()[:100]}"
    _take_attempt(settings, limiter, limit_key)
    try:
        user = await users.get_by_name(session, username)
        matches = await _password_matches(user, password)
    except Exception:  # e.g. the database is down: no password was checked, so no failure to count
        limiter.give_back(limit_key, settings.login_failures_per_minute)
        raise
    if not matches:
        AUTH_FAILURES.labels("invalid_login").inc()
        log.info("login_refused", reason="unknown_user" if user is None else "wrong_password")
        raise Unauthorized("invalid username or password", code="invalid_login", headers=BEARER_CHALLENGE)
    assert user is not None
    limiter.give_back(limit_key, settings.login_failures_per_minute)  # only failures count
    if user.disabled:
        AUTH_FAILURES.labels("disabled_user").inc()
        log.info("login_refused", reason="disabled_user", user=user.name)
        raise Unauthorized("this user is disabled", code="user_disabled", headers=BEARER_CHALLENGE)
    token = issue_token(settings, user.name, _granted_scopes(user, requested_scope), user.password_changed_at)
    LOGINS.inc()
    log.info("login", user=user.name, scopes=" ".join(sorted(token.scopes)))
    return token


def _take_attempt(settings: Settings, limiter: RateLimiter, key: str) -> None:
    """Count the attempt as a failure before the password is checked (given back if it matches), so that
    guesses sent at once cannot all be checked before the first failure is counted."""
    wait = limiter.take(key, settings.login_failures_per_minute)
    if wait > 0:
        RATE_LIMITED.labels("login").inc()
        raise RateLimited(
            "too many failed logins for this user name; retry later",
            code="too_many_failed_logins",
            headers={"Retry-After": retry_after_header(wait)},
        )


async def _password_matches(user: User | None, password: str) -> bool:
    if user is None:
        await asyncio.to_thread(dummy_verify)
        return False
    return await asyncio.to_thread(verify_password, password, user.password_hash)


def _granted_scopes(user: User, requested: str) -> frozenset[str]:
    asked = frozenset(requested.split())
    if not asked:
        return frozenset(user.scopes)
    if unknown := scope_rules.unknown_scopes(asked):
        raise BadRequest(f"unknown scope {', '.join(unknown)}", code="invalid_scope")
    if missing := sorted(asked - scope_rules.still_held(asked, user.scopes)):
        raise BadRequest(f"the user does not hold the scope {', '.join(missing)}", code="invalid_scope")
    return asked


async def caller_from_token(session: AsyncSession, settings: Settings, token: str) -> Caller:
    claims = decode_token(settings, token)
    user = await users.get_by_name(session, claims.subject)
    if user is None:
        raise InvalidCredentialsError("unknown_user", "the token's user does not exist")
    if user.disabled:
        raise InvalidCredentialsError("disabled_user", "the token's user is disabled")
    if microseconds(user.password_changed_at) != claims.password_changed_us:
        raise InvalidCredentialsError("revoked", "the user's password changed since the token was issued")
    principal = Principal(
        id=f"user:{user.name}",
        kind="user",
        name=user.name,
        scopes=scope_rules.still_held(claims.scopes, user.scopes),
    )
    return Caller(principal, settings.user_rate_limit_per_minute)


async def caller_from_api_key(session: AsyncSession, key: str) -> Caller:
    api_key = await check_api_key(session, key)
    principal = Principal(
        id=f"api_key:{api_key.id}", kind="api_key", name=api_key.name, scopes=frozenset(api_key.scopes)
    )
    return Caller(principal, api_key.rate_limit_per_minute)
