"""The lead field checks every lead source shares: custom fields must be storable, and a change to a
stored lead checks only what it names."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.leads.fields import LeadInvalidError, changed_values, lead_values


@pytest.mark.parametrize(
    "custom",
    [
        {"note": "a\x00b"},
        {"note": "\ud800"},  # a lone surrogate
        {"score": float("nan")},
        {"big": "x" * 16_400},
        {f"k{i}": "v" for i in range(51)},
    ],
)
def test_custom_fields_postgresql_cannot_store_are_refused(custom: dict[str, Any]) -> None:
    with pytest.raises(LeadInvalidError) as refused:
        lead_values({"phone": "+12025550100"}, custom_fields=custom)
    assert [p.field for p in refused.value.problems] == ["custom_fields"]


def test_a_change_checks_only_the_fields_it_names_and_blank_clears() -> None:
    changes = changed_values({"email": "Jane@Example.com", "name": " ", "timezone": None})
    assert changes == {"email": "jane@example.com", "name": None, "timezone": None}


def test_a_change_cannot_clear_the_phone_or_the_consent_and_reports_every_problem() -> None:
    with pytest.raises(LeadInvalidError) as refused:
        changed_values({"phone": "", "consent": None, "language": "??"}, custom_fields={"x": "\x00"})
    assert [p.field for p in refused.value.problems] == ["language", "phone", "consent", "custom_fields"]
