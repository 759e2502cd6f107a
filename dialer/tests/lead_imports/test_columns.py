"""The header of a lead file: lead fields are found whatever their case and spacing, other columns are custom
fields, and a header that cannot work is refused naming the problem."""

from __future__ import annotations

import pytest

from dialer.lead_imports.columns import Columns, HeaderError, RowInvalidError, RowProblem


def test_columns_match_lead_fields_case_and_space_insensitively_and_others_are_custom_fields() -> None:
    columns = Columns.from_header([" PHONE ", "Consent Source", "time-zone", "Notes", ""])
    lead = columns.lead(["+1 (202) 555-0100", "web form", "America/Chicago", "  call after 5 ", "ignored"])
    assert (lead.phone, lead.consent_source, lead.timezone) == ("+12025550100", "web form", "America/Chicago")
    assert lead.custom_fields == {"Notes": "call after 5"}
    assert columns.lead(["+12025550100", "", "", "", ""]).given() == {"phone": "+12025550100"}


def test_a_row_reports_every_problem_with_its_field() -> None:
    columns = Columns.from_header(["phone", "email", "consent"])
    with pytest.raises(RowInvalidError) as bad:
        columns.lead(["12", "nope", "perhaps"])
    assert [p.field for p in bad.value.problems] == ["phone", "email", "consent"]
    with pytest.raises(RowInvalidError) as short:
        columns.lead(["+12025550100", "a@b.co"])
    assert short.value.problems == [RowProblem(None, "expected 3 fields (as in the header), found 2")]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ([""], "header naming the columns) is empty"),
        (["name", "email"], "no 'phone' column (it has 'name', 'email')"),
        (["phone", "Phone"], "'phone' appears more than once"),
        (["phone", *(f"c{i}" for i in range(51))], "51 custom columns"),
    ],
)
def test_a_header_that_cannot_work_is_refused(header: list[str], words: str) -> None:
    with pytest.raises(HeaderError) as refused:
        Columns.from_header(header)
    assert words in str(refused.value)
