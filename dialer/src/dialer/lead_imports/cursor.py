"""Opaque cursors of an import's error report: the position (line, error id) of the last error of a page.

The shared codec (:mod:`dialplane.api.cursor`) holds a moment and a UUID; errors are ordered by line, so
their cursor holds (line, id) in the shared envelope (:func:`dialplane.api.cursor.pack`).
"""

from __future__ import annotations

from dialer.errors import invalid_field
from dialplane.api.cursor import BadCursorError, pack, unpack


def encode(line: int, error_id: int) -> str:
    return pack([line, error_id])


def decode(cursor: str) -> tuple[int, int]:
    """The position in ``cursor``; a 422 naming ``cursor`` if it is not one of ours."""
    try:
        line, error_id = unpack(cursor)
        if not (isinstance(line, int) and isinstance(error_id, int)):
            raise TypeError("not two integers")
        if not (0 <= line < 2**31 and 0 <= error_id < 2**63):
            raise ValueError("out of range")
        return line, error_id
    except (BadCursorError, ValueError, TypeError) as exc:
        raise invalid_field("cursor", "not a cursor given by this API", "cursor") from exc
