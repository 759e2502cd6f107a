"""The columns of a lead file: the header names them, and each row becomes a lead through them.

A column named like a lead field (case, spaces, ``_`` and ``-`` aside: ``Phone``, ``consent source``,
``Consent-At``) holds that field; any other named column is a custom field under its name as written; a
column without a name is ignored. The values of a row are checked by :func:`dialer.leads.fields.lead_values`,
like every other source of leads; an empty cell is a field not given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dialer.leads.fields import FIELDS, MAX_CUSTOM_FIELDS, MAX_TEXT, LeadInvalidError, LeadValues, lead_values

ColumnKind = Literal["field", "custom", "ignored"]
_SEPARATORS = re.compile(r"[\s_-]+")
_FIELD_KEYS = {name.replace("_", ""): name for name in FIELDS}


class HeaderError(ValueError):
    """The header cannot be used (the message names the problem)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    field: str | None  # None: the row as a whole (its number of cells)
    message: str


class RowInvalidError(ValueError):
    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Column:
    kind: ColumnKind
    name: str  # the lead field, or the custom field's name


@dataclass(frozen=True, slots=True)
class Columns:
    columns: tuple[Column, ...]

    @classmethod
    def from_header(cls, cells: list[str]) -> Columns:
        """The columns of a header; :class:`HeaderError` if it is empty, repeats a name, has no ``phone``
        column or too many custom ones."""
        if not any(cell.strip() for cell in cells):
            raise HeaderError("the first line (the header naming the columns) is empty")
        columns = tuple(_column(cell) for cell in cells)
        _check_names(columns)
        return cls(columns)

    def lead(self, cells: list[str]) -> LeadValues:
        """The lead of a row; :class:`RowInvalidError` with every problem found."""
        if len(cells) != len(self.columns):
            message = f"expected {len(self.columns)} fields (as in the header), found {len(cells)}"
            raise RowInvalidError([RowProblem(None, message)])
        raw: dict[str, str] = {}
        custom: dict[str, str] = {}
        for column, cell in zip(self.columns, cells, strict=True):
            if column.kind == "field":
                raw[column.name] = cell
            elif column.kind == "custom" and (value := cell.strip()):
                custom[column.name] = value
        try:
            return lead_values(raw, custom_fields=custom)
        except LeadInvalidError as exc:
            raise RowInvalidError([RowProblem(p.field, p.message) for p in exc.problems]) from None


def is_blank(cells: list[str]) -> bool:
    """A row without a value (an empty line, or only separators): not a row at all."""
    return not any(cell.strip() for cell in cells)


def _column(cell: str) -> Column:
    name = cell.strip()
    if not name:
        return Column("ignored", "")
    field = _FIELD_KEYS.get(_SEPARATORS.sub("", name).lower())
    return Column("field", field) if field else Column("custom", name)


def _check_names(columns: tuple[Column, ...]) -> None:
    named = [c for c in columns if c.kind != "ignored"]
    seen: set[tuple[ColumnKind, str]] = set()
    for column in named:
        if (column.kind, column.name) in seen:
            raise HeaderError(f"the column {column.name!r} appears more than once in the header")
        seen.add((column.kind, column.name))
        if len(column.name) > MAX_TEXT or "\x00" in column.name:
            raise HeaderError(f"a column name is longer than {MAX_TEXT} characters or holds a NUL character")
    if ("field", "phone") not in seen:
        found = ", ".join(repr(c.name) for c in named)
        raise HeaderError(
            f"the header has no 'phone' column (it has {found}); lead fields: {', '.join(FIELDS)}"
        )
    custom = sum(1 for c in named if c.kind == "custom")
    if custom > MAX_CUSTOM_FIELDS:
        raise HeaderError(
            f"{custom} custom columns; at most {MAX_CUSTOM_FIELDS} columns besides the lead fields"
        )
