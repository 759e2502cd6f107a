"""Opaque cursors of an import's error report: the position (line, error id) of the last error of a page.

The shared codec (:mod:`dialplane.api.cursor`) holds a moment and a UUID; errors are ordered by line, so
their cursor is its own: URL-safe base64 of a small JSON array, like the shared one.
"""

from __future__ import annotations

import base64
import binascii
import json

from dialer.errors import invalid_field


def encode(line: int, error_id: int) -> str:
    raw = json.dumps([line, error_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[int, int]:
    """The position in ``cursor``; a 422 naming ``cursor`` if it is not one of ours."""
    try:
        line, error_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(line, int) and isinstance(error_id, int)):
            raise TypeError("not two integers")
        if not (0 <= line < 2**31 and 0 <= error_id < 2**63):
            raise ValueError("out of range")
        return line, error_id
    except (binascii.Error, ValueError, TypeError) as exc:
        raise invalid_field("cursor", "not a cursor given by this API", "cursor") from exc
