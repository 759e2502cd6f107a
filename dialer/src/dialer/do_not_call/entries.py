"""What an entry may hold, shared by the API and the import: the stored number and the expiry.

An exact number is stored in E.164 as libphonenumber writes it — the form the dial-time policy looks up. It
must be *possible* for its country, not necessarily in an allocated range: a number from a range newer than
our metadata must be listable too, before it becomes dialable. A prefix is ``+`` and 1 to 15 digits.
"""

from __future__ import annotations

import datetime as dt
import re

from dialer import numbers
from dialer.errors import invalid_field
from dialplane.api.do_not_call import PREFIX_PATTERN, Match


def stored_number(value: str, match: Match) -> str:
    """The number as it is stored; a 422 naming ``number`` if it is not one."""
    value = value.strip()
    if match == "exact":
        return numbers.caller_number(value, "number")
    if re.fullmatch(PREFIX_PATTERN, value) is None:
        raise invalid_field("number", "a prefix is '+' and 1 to 15 digits, nothing else")
    return value


def check_expiry(expires_at: dt.datetime | None, now: dt.datetime) -> None:
    """A 422 naming ``expires_at`` unless it is absent (never expires) or in the future."""
    if expires_at is not None and expires_at <= now:
        raise invalid_field("expires_at", "must be in the future (leave it out: the entry never expires)")
