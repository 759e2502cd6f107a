"""Opaque list cursors: the position (``created_at``, ``id``) of the last call of a page."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid

from dialer.errors import invalid_field


def encode(created_at: dt.datetime, call_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(call_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The position in ``cursor``; a 422 naming ``cursor`` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, call_id = json.loads(raw)
        moment = dt.datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise ValueError("no offset")
        return moment.astimezone(dt.UTC), uuid.UUID(call_id)
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise invalid_field("cursor", "not a cursor given by this API", "cursor") from exc
