"""Opaque cursors of the dial refusals: the position (``at``, ``id``) of the last refusal of a page."""

from __future__ import annotations

import datetime as dt

from dialer.errors import invalid_field
from dialplane.api.cursor import BadCursorError, pack, unpack


def encode(at: dt.datetime, refusal_id: int) -> str:
    return pack([at.isoformat(), refusal_id])


def decode(cursor: str) -> tuple[dt.datetime, int]:
    """The position in ``cursor``; a 422 naming ``cursor`` if it is not one of ours."""
    try:
        moment_text, refusal_id = unpack(cursor)
        moment = dt.datetime.fromisoformat(moment_text)
        if moment.tzinfo is None or type(refusal_id) is not int or not 0 < refusal_id < 2**63:
            raise ValueError("not a position")
        return moment, refusal_id
    except (BadCursorError, ValueError, TypeError, OverflowError) as exc:
        raise invalid_field("query.cursor", "not a cursor given by this API", "cursor") from exc
