"""Access tokens: the claims issued, and every way a token is refused (with a reason, never the secret)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest
from jose import jwt

from gateway.auth.tokens import InvalidTokenError, decode_token, issue_token, microseconds
from gateway.settings import Settings
from gateway.testing import TEST_JWT_SECRET, craft_token

CHANGED = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
SCOPES = frozenset({"calls:read", "calls:write"})


def settings_for(**overrides: object) -> Settings:
    return Settings(jwt_secret=TEST_JWT_SECRET, **overrides)  # type: ignore[arg-type]


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def refusal(settings: Settings, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        decode_token(settings, token)
    assert TEST_JWT_SECRET not in caught.value.detail
    return caught.value


def test_an_issued_token_carries_the_expected_claims() -> None:
    settings = settings_for(access_token_ttl_seconds=900)
    issued = issue_token(settings, "alice", SCOPES, CHANGED, now=1_800_000_000.7)
    claims = jwt.get_unverified_claims(issued.token)
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS256"
    assert claims == {
        "sub": "alice",
        "iat": 1_800_000_000,
        "nbf": 1_800_000_000,
        "exp": 1_800_000_900,
        "scope": "calls:read calls:write",
        "pwd_at": microseconds(CHANGED),
    }
    assert issued.expires_in == 900


def test_a_fresh_token_decodes() -> None:
    settings = settings_for(jwt_issuer="https://dialplane.test", jwt_audience="dialplane-api")
    token = issue_token(settings, "alice", SCOPES, CHANGED).token
    claims = jwt.get_unverified_claims(token)
    assert (claims["iss"], claims["aud"]) == ("https://dialplane.test", "dialplane-api")
    decoded = decode_token(settings, token)
    assert (decoded.subject, decoded.scopes) == ("alice", SCOPES)
    assert decoded.password_changed_us == microseconds(CHANGED)


def test_microseconds_are_exact() -> None:
    assert microseconds(CHANGED) == 1_767_323_045_678_901


def test_an_expired_token_is_refused() -> None:
    settings = settings_for()
    token = issue_token(settings, "alice", SCOPES, CHANGED, now=time.time() - 3601).token
    assert refusal(settings, token).reason == "expired"


def test_a_token_not_yet_valid_is_refused() -> None:
    settings = settings_for()
    error = refusal(settings, craft_token(settings, nbf=int(time.time()) + 120))
    assert (error.reason, error.detail) == ("not_yet_valid", "the token is not valid yet (nbf)")


def test_a_tampered_payload_is_refused() -> None:
    settings = settings_for()
    header, payload, signature = issue_token(settings, "bob", frozenset({"calls:read"}), CHANGED).token.split(
        "."
    )
    claims = jwt.get_unverified_claims(f"{header}.{payload}.{signature}") | {"scope": "admin"}
    assert refusal(settings, f"{header}.{b64(claims)}.{signature}").reason == "bad_signature"


def test_an_unsigned_alg_none_token_is_refused() -> None:
    settings = settings_for()
    payload = jwt.get_unverified_claims(craft_token(settings, scope="admin"))
    error = refusal(settings, f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}.")
    assert error.reason == "bad_algorithm"
    assert "HS256" in error.detail


def test_a_token_signed_with_another_algorithm_is_refused_even_with_the_right_key() -> None:
    token = craft_token(settings_for(jwt_algorithm="HS512"))
    assert refusal(settings_for(), token).reason == "bad_algorithm"


def test_a_token_signed_with_another_key_is_refused() -> None:
    other = Settings(jwt_secret="another-secret-of-a-sufficient-length-123")
    error = refusal(settings_for(), craft_token(other))
    assert (error.reason, error.detail) == ("bad_signature", "the token's signature does not verify")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "someone-else"}, "bad_audience"),
        ({"iss": "https://evil.test"}, "bad_issuer"),
        ({"aud": None}, "malformed"),
        ({"iss": None}, "malformed"),
    ],
)
def test_a_wrong_or_missing_issuer_or_audience_is_refused(claims: dict[str, object], reason: str) -> None:
    settings = settings_for(jwt_issuer="https://dialplane.test", jwt_audience="dialplane-api")
    expected = {"iss": "https://dialplane.test", "aud": "dialplane-api"}
    assert decode_token(settings, craft_token(settings, **expected)).subject == "alice"
    assert refusal(settings, craft_token(settings, **(expected | claims))).reason == reason


def test_an_audience_is_refused_when_none_is_configured() -> None:
    settings = settings_for()
    assert refusal(settings, craft_token(settings, aud="dialplane-api")).reason == "bad_audience"


@pytest.mark.parametrize("missing", ["sub", "exp", "nbf", "iat", "pwd_at"])
def test_a_token_without_a_required_claim_is_refused(missing: str) -> None:
    settings = settings_for()
    error = refusal(settings, craft_token(settings, **{missing: None}))
    assert error.reason == "malformed"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_refused_as_malformed(garbage: str) -> None:
    assert refusal(settings_for(), garbage).reason == "malformed"
