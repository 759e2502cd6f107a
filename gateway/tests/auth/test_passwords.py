"""Passwords: bcrypt hashes, and passwords bcrypt cannot take are refused rather than truncated."""

from __future__ import annotations

import pytest

from dialplane.errors import ValidationFailed
from gateway.auth.passwords import hash_password, password_problem, verify_password


def test_a_hash_verifies_its_password_only() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$2b$")
    assert "correct horse" not in hashed
    assert verify_password("correct horse", hashed)
    assert not verify_password("correct horsE", hashed)


@pytest.mark.parametrize(
    ("password", "problem"),
    [("", "must not be empty"), ("a" * 73, "longer than 72 bytes"), ("é" * 37, "longer than 72 bytes")],
)
def test_unusable_passwords_are_refused(password: str, problem: str) -> None:
    assert problem in (password_problem(password) or "")
    with pytest.raises(ValidationFailed, match=problem):
        hash_password(password)


def test_72_bytes_are_fine_and_a_longer_password_never_matches() -> None:
    hashed = hash_password("a" * 72)
    assert verify_password("a" * 72, hashed)
    assert not verify_password("a" * 73, hashed)  # bcrypt would have compared only the first 72
