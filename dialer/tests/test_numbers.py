"""Phone numbers: normalised to E.164, refused with the field named, and their time zones."""

from __future__ import annotations

import pytest

from dialer import numbers
from dialplane.errors import ValidationFailed


@pytest.mark.parametrize(
    ("given", "e164"),
    [
        ("+12025550100", "+12025550100"),
        ("+1 (202) 555-0105", "+12025550105"),
        ("+1.202.555.0102", "+12025550102"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_called_numbers_are_normalised(given: str, e164: str) -> None:
    assert numbers.called_number(given) == e164


@pytest.mark.parametrize("given", ["+1202555010a", "+1-800-FLOWERS", "+15555550100", "+1202", "12025550100"])
def test_bad_called_numbers_name_the_field(given: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        numbers.called_number(given, "lead.phone")
    assert raised.value.extra["errors"][0]["field"] == "lead.phone"


def test_a_caller_id_needs_only_a_possible_length() -> None:
    assert numbers.caller_number("+1 555 555 0100") == "+15555550100"
    with pytest.raises(ValidationFailed):
        numbers.caller_number("+1555")


def test_time_zones_of_a_number_and_of_its_country() -> None:
    assert numbers.time_zones("+12125550123") == ("America/New_York",)
    assert set(numbers.time_zones("+12085550123")) == {"America/Boise", "America/Los_Angeles"}
    assert "Pacific/Honolulu" in numbers.country_time_zones("+12125550123")
    assert numbers.country_time_zones("+33612345678") == ("Europe/Paris",)
