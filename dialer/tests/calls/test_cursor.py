"""List cursors: opaque, round-trip, and anything else is a 422 naming ``cursor``."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from dialer.calls import cursor
from dialplane.errors import ValidationFailed


def test_a_cursor_round_trips() -> None:
    position = (dt.datetime(2026, 3, 10, 16, 0, 0, 123456, tzinfo=dt.UTC), uuid.uuid4())
    assert cursor.decode(cursor.encode(*position)) == position


@pytest.mark.parametrize("given", ["", "!!!", "bnVsbA", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwieCJd", "WzEsMiwzXQ"])
def test_anything_else_is_refused(given: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        cursor.decode(given)
    assert raised.value.extra["errors"][0]["field"] == "cursor"


def test_a_position_out_of_range_in_utc_is_refused() -> None:
    crafted = cursor.encode(dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), uuid.uuid4())
    with pytest.raises(ValidationFailed):
        cursor.decode(crafted)
