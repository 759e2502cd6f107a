"""Signing webhook requests, and checking a signature as a receiver would.

The signature is ``v1=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>`` in ``X-Dialplane-Signature``,
with the Unix timestamp (seconds) in ``X-Dialplane-Timestamp``. Receivers recompute it over the raw body
bytes and refuse timestamps too far from their clock, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "v1"


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Dialplane-Signature`` header value for ``body`` sent at ``timestamp``."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    header: str,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> bool:
    """True if ``header`` holds a valid ``v1`` signature of ``body`` at ``timestamp`` (the values of the
    ``X-Dialplane-Timestamp`` and ``X-Dialplane-Signature`` headers) and the timestamp is within
    ``tolerance_seconds`` of ``now`` (default: the current time). Several comma-separated signatures
    are accepted (any one may match). Comparison is constant-time."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    raw = body.encode() if isinstance(body, str) else body
    expected = signature(secret, sent_at, raw)
    candidates = [part.strip() for part in header.split(",")]
    matches = [hmac.compare_digest(expected.encode(), c.encode()) for c in candidates]
    return any(matches)
