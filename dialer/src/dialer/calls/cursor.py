"""Opaque list cursors: the position (``created_at``, ``id``) of the last call of a page."""

from __future__ import annotations

import datetime as dt
import uuid

from dialer.errors import invalid_field
from dialplane.api import cursor as shared

encode = shared.encode


def decode(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The position in ``cursor``; a 422 naming ``cursor`` if it is not one of ours."""
    try:
        return shared.decode(cursor)
    except shared.BadCursorError as exc:
        raise invalid_field("cursor", "not a cursor given by this API", "cursor") from exc
