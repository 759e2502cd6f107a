"""Opaque list cursors shared by the services' list endpoints: the position (a moment, an id) of the last
item of a page, as URL-safe base64 of a small JSON array."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid


class BadCursorError(ValueError):
    """Not a cursor this API gave out."""


def encode(moment: dt.datetime, item_id: uuid.UUID) -> str:
    raw = json.dumps([moment.isoformat(), str(item_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The position in ``cursor`` (the moment in UTC); :class:`BadCursorError` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment_text, item_id = json.loads(raw)
        moment = dt.datetime.fromisoformat(moment_text)
        if moment.tzinfo is None:
            raise ValueError("no offset")
        return moment.astimezone(dt.UTC), uuid.UUID(item_id)
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise BadCursorError(str(exc)) from exc
