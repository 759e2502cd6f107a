"""Phone numbers: parsing and normalising to E.164 (libphonenumber's metadata) and their time zones."""

from __future__ import annotations

import phonenumbers
from phonenumbers import timezone as number_timezones
from phonenumbers.tzdata import TIMEZONE_DATA

from dialer.errors import invalid_field


def _parse(value: str, field: str) -> phonenumbers.PhoneNumber:
    if any(ch.isalpha() for ch in value):
        raise invalid_field(field, "a phone number has no letters", "phone_number")
    try:
        return phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise invalid_field(field, f"not an international phone number: {exc}", "phone_number") from exc


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def called_number(value: str, field: str = "to") -> str:
    """The E.164 form of a number we may dial: valid in its country's numbering plan."""
    number = _parse(value, field)
    if not phonenumbers.is_valid_number(number):
        raise invalid_field(field, "not a valid number of its country's numbering plan", "phone_number")
    return _e164(number)


def caller_number(value: str, field: str = "from") -> str:
    """The E.164 form of a caller id: a number of possible length for its country (our own number, so
    whether its range is allocated is the carrier's business)."""
    number = _parse(value, field)
    if not phonenumbers.is_possible_number(number):
        raise invalid_field(field, "not a possible number for its country", "phone_number")
    return _e164(number)


def time_zones(e164: str) -> tuple[str, ...]:
    """IANA zones of a (valid) number: its area's, or every zone of its country code when the number is not
    geographic (mobile in some countries, toll-free). Empty when libphonenumber knows none."""
    zones = number_timezones.time_zones_for_number(phonenumbers.parse(e164, None))
    return tuple(zone for zone in zones if zone != number_timezones.UNKNOWN_TIMEZONE)


def country_time_zones(e164: str) -> tuple[str, ...]:
    """Every IANA zone of the number's country calling code (``+1``: all of the NANP)."""
    country_code = str(phonenumbers.parse(e164, None).country_code)
    return tuple(zone for zone in TIMEZONE_DATA.get(country_code, ()) if zone != "Etc/Unknown")
