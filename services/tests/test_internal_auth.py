"""The principal the gateway vouches for: internal services accept only a fresh token signed with the shared
secret, for their audience, with the pinned algorithm."""

from __future__ import annotations

import time

import pytest
from jose import jwt

from dialplane.errors import Unauthorized
from dialplane.internal_auth import TOKEN_TTL_SECONDS, Principal, sign_principal, verify_principal

SECRET = "internal-secret-for-this-test"
ALICE = Principal(id="user:alice", kind="user", name="alice", scopes=frozenset({"calls:read", "calls:write"}))


def test_a_signed_principal_comes_back_whole() -> None:
    assert verify_principal(sign_principal(ALICE, SECRET), SECRET) == ALICE


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (sign_principal(ALICE, "another-secret"), "Signature verification failed"),
        (sign_principal(ALICE, SECRET, now=time.time() - TOKEN_TTL_SECONDS - 5), "expired"),
        (jwt.encode({"sub": "user:alice", "kind": "user"}, SECRET, algorithm="HS256"), "issuer"),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyOmFsaWNlIn0.", "alg"),
    ],
)
def test_forged_expired_or_foreign_tokens_are_refused(token: str, reason: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        verify_principal(token, SECRET)
    assert refused.value.code == "invalid_internal_token"
    assert reason.lower() in refused.value.detail.lower()


def test_admin_allows_every_scope_and_others_only_their_own() -> None:
    admin = Principal(id="user:root", kind="user", name="root", scopes=frozenset({"admin"}))
    assert admin.allows("leads:write") and ALICE.allows("calls:read") and not ALICE.allows("leads:read")
