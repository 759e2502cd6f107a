"""Opaque list cursors shared by the services' list endpoints: the position (a moment, an id) of the last
item of a page, as URL-safe base64 of a small JSON array."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from typing import Any


class BadCursorError(ValueError):
    """Not a cursor this API gave out."""


def pack(values: list[Any]) -> str:
    """The envelope of every cursor: URL-safe base64 of a small JSON array."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack(cursor: str) -> Any:
    """What :func:`pack` packed; :class:`BadCursorError` if ``cursor`` is not such an envelope."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadCursorError(str(exc)) from exc


def encode(moment: dt.datetime, item_id: uuid.UUID) -> str:
    return pack([moment.isoformat(), str(item_id)])


def decode(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The position in ``cursor`` (the moment in UTC); :class:`BadCursorError` if it is not one of ours."""
    try:
        moment_text, item_id = unpack(cursor)
        moment = dt.datetime.fromisoformat(moment_text)
        if moment.tzinfo is None:
            raise ValueError("no offset")
        return moment.astimezone(dt.UTC), uuid.UUID(item_id)
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise BadCursorError(str(exc)) from exc
