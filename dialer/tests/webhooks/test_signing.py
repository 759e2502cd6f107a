"""Signatures: what the sender puts in ``X-Dialplane-Signature`` is what a receiver can verify, and
anything altered, stale or malformed is refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from dialer.webhooks import signature, verify_signature

SECRET = "whsec-example"
BODY = b'{"id":"42","type":"call.answered","call_id":"c-1","data":{}}'
NOW = 1_790_000_000


def test_the_signature_is_an_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, NOW, BODY) == f"v1={expected}"


def test_a_fresh_signature_of_the_exact_body_verifies() -> None:
    header = signature(SECRET, NOW, BODY)
    assert verify_signature(SECRET, str(NOW), BODY, header, now=NOW + 10)
    assert verify_signature(SECRET, NOW, BODY.decode(), header, now=NOW - 10)


def test_one_of_several_signatures_may_match() -> None:
    header = f"v1={'0' * 64}, {signature(SECRET, NOW, BODY)}"
    assert verify_signature(SECRET, NOW, BODY, header, now=NOW)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now"),
    [
        ("another-secret", NOW, BODY, NOW),
        (SECRET, NOW, BODY + b" ", NOW),
        (SECRET, NOW + 1, BODY, NOW),
        (SECRET, NOW, BODY, NOW + 301),
        (SECRET, NOW, BODY, NOW - 301),
        (SECRET, "not-a-number", BODY, NOW),
    ],
    ids=["wrong-secret", "altered-body", "altered-timestamp", "too-old", "from-the-future", "bad-timestamp"],
)
def test_anything_altered_or_stale_is_refused(secret: str, timestamp: object, body: bytes, now: int) -> None:
    header = signature(SECRET, NOW, BODY)
    assert not verify_signature(secret, timestamp, body, header, now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize("header", ["", "v1=", "v0=" + "0" * 64, "garbage"])
def test_malformed_headers_are_refused(header: str) -> None:
    assert not verify_signature(SECRET, NOW, BODY, header, now=NOW)
