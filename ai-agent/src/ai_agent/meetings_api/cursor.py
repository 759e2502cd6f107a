"""Opaque list cursors: the position (``start``, ``id``) of the last meeting of a page."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid

from ai_agent.profiles.errors import invalid_field


def encode(start: dt.datetime, meeting_id: uuid.UUID) -> str:
    raw = json.dumps([start.isoformat(), str(meeting_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The position in ``cursor``; a 422 naming ``cursor`` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start, meeting_id = json.loads(raw)
        moment = dt.datetime.fromisoformat(start)
        if moment.tzinfo is None:
            raise ValueError("no offset")
        return moment.astimezone(dt.UTC), uuid.UUID(meeting_id)
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise invalid_field("query.cursor", "not a cursor given by this API", "cursor") from exc
