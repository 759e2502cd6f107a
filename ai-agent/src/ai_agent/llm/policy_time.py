"""Reading a day and a time from what the person said, as speech-to-text wrote it.

"Tomorrow at ten a m", "tomorrow at 10 a.m.", "next Tuesday at 3 pm", "10:30", "this afternoon", "in an
hour": the text is normalised first (number words to digits, every spelling of a.m. to ``am``), then the
time of day is read with a few patterns, and the day phrase is resolved by dateparser in the lead's time
zone relative to now, preferring the future. Turning what was read into the times to check or call back is
:mod:`ai_agent.llm.policy_when`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final, Literal

import dateparser

from ai_agent.llm.policy_speech import MONTHS, TENS, UNITS, WEEKDAYS, ordinal_words

Part = Literal["morning", "afternoon", "evening"]


@dataclass(frozen=True, slots=True)
class Moment:
    """What a sentence said about when: any of a day, a time of day, a part of the day, a delay."""

    day: dt.date | None = None
    clock: dt.time | None = None
    part: Part | None = None
    delay: dt.timedelta | None = None


_WEEKDAY: Final = "|".join(WEEKDAYS)
_MONTH: Final = "|".join(MONTHS)
_ORD: Final = r"\d{1,2}(?:st|nd|rd|th)"
_MINUTES: Final = r"(?:\s+(?P<m>[0-5]\d)|\s+oh\s+(?P<m1>\d))?"
_TIME_PATTERNS: Final = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b(?P<h>\d{1,2})[:.](?P<m>[0-5]\d)\b(?:\s*(?P<mer>am|pm)\b)?",
        rf"\b(?P<h>\d{{1,2}}){_MINUTES}\s*(?P<mer>am|pm)\b",
        r"\b(?P<h>\d{1,2})\s*oclock\b",
        rf"\b(?:at|around|about|say|by|today|tomorrow|tonight|{_WEEKDAY})\s+(?P<h>\d{{1,2}}){_MINUTES}\b"
        rf"(?!\s*(?:st|nd|rd|th|days?|weeks?|months?|minutes?|hours?|people|/|of\b|{_MONTH}))",
        rf"^(?:(?:how about|what about|maybe|let's say|say|um|uh|er)\s+)?(?P<h>\d{{1,2}}){_MINUTES}"
        r"(?:\s+(?:please|then|works|is fine|is good|would work))?$",
    )
)
_QUARTERS: Final = re.compile(r"\b(?P<q>half|quarter)\s+(?P<dir>past|after|to)\s+(?P<h>\d{1,2})\b")
_NOON: Final = re.compile(r"\b(?:noon|midday|lunch ?time|lunch)\b")
_PARTS: Final = re.compile(r"\b(?P<p>morning|afternoon|evening|tonight)\b")
_DELAY: Final = re.compile(r"\bin\s+(?P<n>\d+|a|an|half an)\s+(?P<unit>minute|hour)s?\b")
_DAY_PHRASE: Final = re.compile(
    r"\b(?:(?:the\s+)?day after tomorrow|today|tonight|tomorrow|next week|this (?:morning|afternoon|evening)"
    rf"|(?:(?:this|next|on|coming)\s+)?(?:{_WEEKDAY})"
    r"|in\s+(?:\d+|a|an)\s+(?:days?|weeks?)"
    rf"|(?:{_MONTH})\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?|{_ORD}\s+(?:of\s+)?(?:{_MONTH})"
    rf"|\d{{1,2}}\s+(?:{_MONTH})|(?:on\s+)?the\s+{_ORD}|\d{{1,2}}/\d{{1,2}})\b"
)
_WORD_NUMBERS: Final = {word: n for n, word in enumerate(UNITS)} | {w: n * 10 for n, w in TENS.items()}
_ORDINALS: Final = {ordinal_words(n): n for n in range(1, 20)} | {"twentieth": 20, "thirtieth": 30}


def normalize(text: str) -> str:
    """Lower case, number words as digits, ``a.m.``/``a m``/``AM`` as ``am``, no sentence punctuation."""
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)
    t = re.sub(r"[,!?;:\"](?!\d)", " ", t)
    t = _digits(t)
    t = re.sub(r"(\d)\s*([ap])\s*\.?\s*m\b\.?", r"\1 \2m", t)
    t = re.sub(r"\b(\d{1,2})\s*m\b", r"\1 oclock", t)  # "10M": speech to text lost the a or p
    t = re.sub(r"\bo\s*'?\s*clock\b", "oclock", t)
    t = re.sub(r"\bafter noon\b", "afternoon", t)
    t = re.sub(r"\.(?=\s|$)", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def _digits(text: str) -> str:
    def tens(match: re.Match[str]) -> str:
        return str(_WORD_NUMBERS[match["t"]] + (_WORD_NUMBERS[match["u"]] if match["u"] else 0))

    def ordinal(match: re.Match[str]) -> str:
        value = (_WORD_NUMBERS[match["t"]] if match["t"] else 0) + _ORDINALS[match["o"]]
        return f"{value}{_ord_suffix(value)}"

    units = "|".join(UNITS[1:10])
    ordinals = "|".join(sorted(_ORDINALS, key=len, reverse=True))
    text = re.sub(rf"\b(?:(?P<t>twenty|thirty)\s+)?(?P<o>{ordinals})\b", ordinal, text)
    text = re.sub(rf"\b(?P<t>twenty|thirty|forty|fifty)(?:\s+(?P<u>{units}))?\b", tens, text)
    return re.sub(r"\b(" + "|".join(UNITS) + r")\b", lambda m: str(_WORD_NUMBERS[m[1]]), text)


def _ord_suffix(n: int) -> str:
    if 10 < n % 100 < 14:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def read_moment(text: str, now: dt.datetime) -> Moment | None:
    """What ``text`` says about when, relative to ``now`` (aware, in the lead's zone); None if nothing."""
    t = normalize(text)
    part = _part(t)
    moment = Moment(day=_day(t, now), clock=_clock(t, part), part=part, delay=_delay(t))
    return None if moment == Moment() else moment


def _last(pattern: re.Pattern[str], t: str) -> re.Match[str] | None:
    """The last match: a correction ("Monday, no, Wednesday") names the day meant last."""
    matches = list(pattern.finditer(t))
    return matches[-1] if matches else None


def _part(t: str) -> Part | None:
    match = _PARTS.search(t)
    if match is None:
        return None
    word = match["p"]
    return "evening" if word == "tonight" else word  # type: ignore[return-value]


def _clock(t: str, part: Part | None) -> dt.time | None:
    for pattern in _TIME_PATTERNS:
        if match := _last(pattern, t):
            groups = match.groupdict()
            minute = groups.get("m") or groups.get("m1") or "0"
            return _hour(int(groups["h"]), int(minute), groups.get("mer"), part)
    if match := _QUARTERS.search(t):
        hour, minute = int(match["h"]), 30 if match["q"] == "half" else 15
        if match["dir"] == "to":
            hour, minute = hour - 1, 45
        return _hour(hour, minute, None, part)
    return dt.time(12) if _NOON.search(t) else None


def _hour(hour: int, minute: int, meridiem: str | None, part: Part | None) -> dt.time | None:
    """A time of day from a spoken hour: am/pm if said, else the part of the day, else business hours
    (1 to 7 means the afternoon, 8 to 11 the morning)."""
    if hour > 12:
        meridiem = None  # a 24-hour clock
    elif meridiem is None and hour:
        meridiem = "am" if part == "morning" or (part is None and 8 <= hour <= 11) else "pm"
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return dt.time(hour, minute)


def _delay(t: str) -> dt.timedelta | None:
    if "half an hour" in t:
        return dt.timedelta(minutes=30)
    match = _DELAY.search(t)
    if match is None:
        return None
    count = 1 if match["n"] in {"a", "an"} else 0.5 if match["n"] == "half an" else int(match["n"])
    return dt.timedelta(minutes=count) if match["unit"] == "minute" else dt.timedelta(hours=count)


def _day(t: str, now: dt.datetime) -> dt.date | None:
    match = _last(_DAY_PHRASE, t)
    if match is None:
        return None
    phrase, today = match[0], now.date()
    if phrase in {"today", "tonight"} or (phrase.startswith("this ") and phrase.endswith("ing")):
        return today
    if "day after tomorrow" in phrase:
        return today + dt.timedelta(days=2)
    if phrase == "tomorrow":
        return today + dt.timedelta(days=1)
    if phrase == "next week":
        return today + dt.timedelta(days=7 - today.weekday())
    if nth := re.fullmatch(r"(?:on\s+)?the\s+(\d{1,2})(?:st|nd|rd|th)", phrase):
        return _day_of_month(int(nth[1]), today)
    return _dateparser_day(re.sub(r"^(?:on|coming)\s+", "", phrase), now)


def _day_of_month(day: int, today: dt.date) -> dt.date | None:
    year, month = today.year, today.month
    for _ in range(3):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _dateparser_day(phrase: str, now: dt.datetime) -> dt.date | None:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "DATE_ORDER": "MDY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
    return parsed.date() if parsed is not None else None
