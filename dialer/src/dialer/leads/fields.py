"""A lead's fields, checked and normalised the same way wherever a lead comes from (the API, a CSV row, a
partner transfer): the phone to E.164, the time zone an IANA name, the email and language in a plain form,
consent as a flag with its source and time. Every problem names its field; all problems of a lead are
reported together.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer import numbers
from dialplane.errors import ValidationFailed

FIELDS = (
    "phone",
    "name",
    "email",
    "timezone",
    "language",
    "consent",
    "consent_source",
    "consent_at",
    "partner",
)
MAX_TEXT = 200
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_FIELDS_BYTES = 16_384
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", ""})


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    message: str


class LeadInvalidError(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    def as_validation_failed(self, prefix: str = "") -> ValidationFailed:
        """The 422 problem of the API (``prefix`` before each field, e.g. ``leads.3.``)."""
        errors = [
            {"field": f"{prefix}{p.field}", "message": p.message, "type": "value_error"}
            for p in self.problems
        ]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return ValidationFailed(f"Invalid request: {fields}", extra={"errors": errors})


@dataclass(slots=True)
class LeadValues:
    """A valid lead, normalised; ``None`` where the source did not give the field."""

    phone: str
    name: str | None = None
    email: str | None = None
    timezone: str | None = None
    language: str | None = None
    consent: bool | None = None
    consent_source: str | None = None
    consent_at: dt.datetime | None = None
    partner: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)

    def given(self) -> dict[str, Any]:
        """The fields the source gave (for a merge that keeps what it did not give)."""
        values = {name: getattr(self, name) for name in FIELDS if getattr(self, name) is not None}
        if self.custom_fields:
            values["custom_fields"] = self.custom_fields
        return values


def lead_values(raw: Mapping[str, Any], *, custom_fields: Mapping[str, Any] | None = None) -> LeadValues:
    """Check and normalise ``raw`` (strings from a CSV row, or values from a JSON body); empty strings count
    as not given. Raises :class:`LeadInvalidError` with every problem found."""
    checked, problems = _checked({name: raw.get(name) for name in FIELDS})
    checked = {name: value for name, value in checked.items() if value is not None}
    if "phone" not in checked and not any(p.field == "phone" for p in problems):
        problems.append(FieldProblem("phone", "a lead needs a phone number"))
    custom = dict(custom_fields or {})
    problems.extend(_custom_field_problems(custom))
    if problems:
        raise LeadInvalidError(problems)
    return LeadValues(**checked, custom_fields=custom)


def changed_values(
    raw: Mapping[str, Any], *, custom_fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Check and normalise a change to a stored lead: only the fields ``raw`` names (``None`` or an empty
    string clears one; the phone and the consent flag cannot be cleared), and ``custom_fields`` when given.
    Raises :class:`LeadInvalidError` with every problem found."""
    checked, problems = _checked({name: raw[name] for name in FIELDS if name in raw})
    problems.extend(
        FieldProblem(name, f"{name} cannot be cleared")
        for name in ("phone", "consent")
        if name in checked and checked[name] is None
    )
    if custom_fields is not None:
        checked["custom_fields"] = dict(custom_fields)
        problems.extend(_custom_field_problems(checked["custom_fields"]))
    if problems:
        raise LeadInvalidError(problems)
    return checked


def _checked(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Each field of ``raw`` checked: its normalised value (``None`` if nothing or blank), or a problem."""
    checked: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, given in raw.items():
        value = (given.strip() or None) if isinstance(given, str) else given
        try:
            checked[name] = None if value is None else _CHECKS.get(name, _text)(value)
        except ValueError as exc:
            problems.append(FieldProblem(name, str(exc)))
    return checked, problems


def _custom_field_problems(custom: Mapping[str, Any]) -> list[FieldProblem]:
    """Custom fields must be few, small, and storable as JSON in PostgreSQL."""
    if len(custom) > MAX_CUSTOM_FIELDS:
        return [FieldProblem("custom_fields", f"at most {MAX_CUSTOM_FIELDS} custom fields")]
    try:
        _storable_json(custom)
        size = len(json.dumps(custom, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        return [FieldProblem("custom_fields", f"not storable as JSON: {exc}")]
    if size > MAX_CUSTOM_FIELDS_BYTES:
        return [FieldProblem("custom_fields", f"larger than {MAX_CUSTOM_FIELDS_BYTES} bytes as JSON")]
    return []


def _storable_json(value: Any) -> None:
    """Refuse what PostgreSQL's ``jsonb`` cannot hold: NUL characters, lone surrogates, non-string keys."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        value.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("keys must be text")
            _storable_json(key)
            _storable_json(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _storable_json(item)


def phone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a phone number is text")
    try:
        return numbers.called_number(value, "phone")
    except ValidationFailed as exc:
        raise ValueError(exc.extra["errors"][0]["message"]) from exc


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("text expected")
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if len(value) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters")
    return value


def _email(value: Any) -> str:
    text = _text(value)
    if not EMAIL.match(text):
        raise ValueError(f"{text!r} is not an email address")
    return text.lower()


def _timezone(value: Any) -> str:
    text = _text(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {text!r} (an IANA name such as America/New_York)") from exc
    return text


def _language(value: Any) -> str:
    text = _text(value)
    if not LANGUAGE.match(text):
        raise ValueError(f"{text!r} is not a language tag (such as en or en-US)")
    return text


def _consent(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError("consent is true or false (yes/no, 1/0)")


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(_text(value))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an ISO 8601 time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


_CHECKS = {
    "phone": phone,
    "email": _email,
    "timezone": _timezone,
    "language": _language,
    "consent": _consent,
    "consent_at": _moment,
}
