"""Access tokens: JWTs signed with the gateway's secret (python-jose), the algorithm pinned by the settings.

Claims: ``sub`` (the user name), ``iat``, ``nbf``, ``exp``, ``scope`` (space-separated), ``pwd_at`` (when the
user's password was last changed, in microseconds since the epoch: a token whose value is not the user's
current one was issued under an older password), and ``iss`` / ``aud`` only when configured.

:func:`decode_token` checks the algorithm, the signature and the time and audience claims, and raises
:class:`InvalidTokenError` with a short machine ``reason`` and a human ``detail`` (never the secret).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from jose import ExpiredSignatureError, JWTError, jwt
from jose.exceptions import JWTClaimsError

from gateway.auth.errors import InvalidCredentialsError
from gateway.settings import Settings

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
PASSWORD_CHANGED_CLAIM = "pwd_at"  # noqa: S105 (a claim name, not a secret)

_CLAIM_PROBLEMS = {
    "Invalid audience": ("bad_audience", "the token is meant for another audience"),
    "Invalid issuer": ("bad_issuer", "the token comes from another issuer"),
    "The token is not yet valid (nbf)": ("not_yet_valid", "the token is not valid yet (nbf)"),
}


class InvalidTokenError(InvalidCredentialsError):
    """A token that must be refused: bad format, algorithm, signature, time, issuer or audience."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    scopes: frozenset[str]
    password_changed_us: int


def microseconds(moment: dt.datetime) -> int:
    """``moment`` as whole microseconds since the epoch (exact, unlike a float timestamp)."""
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def issue_token(
    settings: Settings,
    subject: str,
    scopes: frozenset[str],
    password_changed_at: dt.datetime,
    *,
    now: float | None = None,
) -> AccessToken:
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.access_token_ttl_seconds,
        "scope": " ".join(sorted(scopes)),
        PASSWORD_CHANGED_CLAIM: microseconds(password_changed_at),
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return AccessToken(sign(settings, claims), settings.access_token_ttl_seconds, scopes)


def sign(settings: Settings, claims: dict[str, Any]) -> str:
    secret = settings.jwt_secret.get_secret_value()
    return str(jwt.encode(claims, secret, algorithm=settings.jwt_algorithm))


def decode_token(settings: Settings, token: str) -> TokenClaims:
    """The verified claims of ``token``; :class:`InvalidTokenError` if anything is wrong with it."""
    _check_algorithm(settings, token)
    claims = _verified_claims(settings, token)
    subject, scope = claims.get("sub"), claims.get("scope", "")
    password_changed = claims.get(PASSWORD_CHANGED_CLAIM)
    if not isinstance(subject, str) or not isinstance(scope, str) or type(password_changed) is not int:
        raise InvalidTokenError("malformed", "the token's claims are not those of a Dialplane access token")
    return TokenClaims(subject, frozenset(scope.split()), password_changed)


def _check_algorithm(settings: Settings, token: str) -> None:
    try:
        header = jwt.get_unverified_header(token)
    except JWTError as exc:
        raise InvalidTokenError("malformed", "the token is not a well-formed JWT") from exc
    if header.get("alg") != settings.jwt_algorithm:
        accepted = settings.jwt_algorithm
        detail = f"the token is not signed with {accepted}, the only algorithm accepted"
        raise InvalidTokenError("bad_algorithm", detail)


def _verified_claims(settings: Settings, token: str) -> dict[str, Any]:
    options = {
        "require_exp": True,
        "require_iat": True,
        "require_nbf": True,
        "require_sub": True,
        "require_iss": settings.jwt_issuer is not None,
        "require_aud": settings.jwt_audience is not None,
    }
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=options,
        )
    except ExpiredSignatureError as exc:
        raise InvalidTokenError("expired", "the token has expired") from exc
    except JWTClaimsError as exc:
        reason, detail = _CLAIM_PROBLEMS.get(str(exc), ("malformed", f"invalid token claims: {exc}"))
        raise InvalidTokenError(reason, detail) from exc
    except JWTError as exc:
        raise _signature_or_format(exc) from exc
    return claims


def _signature_or_format(exc: JWTError) -> InvalidTokenError:
    message = str(exc)
    if "Signature verification failed" in message:
        return InvalidTokenError("bad_signature", "the token's signature does not verify")
    if message.startswith("missing required key"):
        return InvalidTokenError("malformed", f"the token lacks a required claim ({message})")
    return InvalidTokenError("malformed", "the token is not a well-formed JWT")
