"""Opaque cursors of the do-not-call lists: the id of the last entry of a page (ids grow with time)."""

from __future__ import annotations

from dialer.errors import invalid_field
from dialplane.api.cursor import BadCursorError, pack, unpack
from dialplane.api.do_not_call import MAX_ENTRY_ID


def encode(entry_id: int) -> str:
    return pack([entry_id])


def decode(cursor: str) -> int:
    """The entry id in ``cursor``; a 422 naming ``cursor`` if it is not one of ours."""
    try:
        (entry_id,) = unpack(cursor)
    except (BadCursorError, ValueError, TypeError) as exc:
        raise invalid_field("query.cursor", "not a cursor given by this API", "cursor") from exc
    if not isinstance(entry_id, int) or isinstance(entry_id, bool) or not 1 <= entry_id <= MAX_ENTRY_ID:
        raise invalid_field("query.cursor", "not a cursor given by this API", "cursor")
    return entry_id
