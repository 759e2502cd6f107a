"""Numbers, times, days, email addresses and phone numbers written as they should be spoken.

Text-to-speech reads "10:00" or "jane.doe@example.com" badly; the policy writes "ten in the morning" and
"jane dot doe at example dot com" instead. The word tables also serve the reading side
(:mod:`ai_agent.llm.policy_time` turns "ten thirty" back into 10:30).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

import phonenumbers


def words(text: str) -> tuple[str, ...]:
    """The words of ``text``: word tables written as one string."""
    return tuple(text.split())


UNITS: Final = words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
)
TENS: Final = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty"}
_ORDINAL_UNITS: Final = words(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
)
_ORDINAL_TENS: Final = {2: "twentieth", 3: "thirtieth"}
WEEKDAYS: Final = words("monday tuesday wednesday thursday friday saturday sunday")
MONTHS: Final = words("january february march april may june july august september october november december")
_SYMBOLS: Final = {".": "dot", "@": "at", "_": "underscore", "-": "dash", "+": "plus"}


def number_words(n: int) -> str:
    """0 to 59 in words (``25`` → ``twenty five``); larger numbers as digits."""
    if 0 <= n < 20:
        return UNITS[n]
    if 20 <= n < 60:
        tens, unit = divmod(n, 10)
        return TENS[tens] + (f" {UNITS[unit]}" if unit else "")
    return str(n)


def ordinal_words(n: int) -> str:
    """1 to 39 as an ordinal (``12`` → ``twelfth``, ``21`` → ``twenty first``)."""
    if 0 <= n < 20:
        return _ORDINAL_UNITS[n]
    tens, unit = divmod(n, 10)
    if tens not in TENS:
        return str(n)
    return f"{TENS[tens]} {_ORDINAL_UNITS[unit]}" if unit else _ORDINAL_TENS.get(tens, str(n))


def say_time(moment: dt.datetime | dt.time) -> str:
    """``10:00`` → ``ten in the morning``, ``14:30`` → ``two thirty in the afternoon``, ``12:00`` → noon."""
    hour, minute = moment.hour, moment.minute
    if (hour, minute) == (12, 0):
        return "noon"
    clock = number_words(hour % 12 or 12)
    if minute:
        clock += f" oh {UNITS[minute]}" if minute < 10 else f" {number_words(minute)}"
    if hour < 12:
        return f"{clock} in the morning"
    return f"{clock} in the afternoon" if hour < 17 else f"{clock} in the evening"


def say_day(day: dt.date, today: dt.date) -> str:
    """``today``, ``tomorrow``, a weekday within the week, otherwise ``Tuesday, March eleventh``."""
    ahead = (day - today).days
    if ahead == 0:
        return "today"
    if ahead == 1:
        return "tomorrow"
    weekday = WEEKDAYS[day.weekday()].capitalize()
    if 1 < ahead < 7:
        return weekday
    return f"{weekday}, {MONTHS[day.month - 1].capitalize()} {ordinal_words(day.day)}"


def say_when(moment: dt.datetime, today: dt.date) -> str:
    """``tomorrow at ten in the morning``."""
    return f"{say_day(moment.date(), today)} at {say_time(moment)}"


def say_email(address: str) -> str:
    """``jane.doe@example.com`` → ``jane dot doe at example dot com``."""
    parts = re.split(r"([.@_+-])", address)
    return " ".join(_SYMBOLS.get(part, part) for part in parts if part)


def say_phone(number: str, region: str = "US") -> str:
    """A phone number digit by digit in words, in groups as it is written nationally."""
    try:
        parsed = phonenumbers.parse(number, region)
        written = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        written = number
    groups = re.findall(r"\d+", written)
    return ", ".join(" ".join(UNITS[int(digit)] for digit in group) for group in groups)


def first_name(full_name: str | None) -> str | None:
    """The first word of a name, to greet the lead with."""
    words = (full_name or "").split()
    return words[0] if words else None
