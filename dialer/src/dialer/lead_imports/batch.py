"""A batch of rows of a lead file, as one transaction writes it: the valid rows merged by phone (field by
field, a later row's values win; custom fields key by key), the problems of the others, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dialer.lead_imports.columns import Columns, RowInvalidError, is_blank
from dialer.lead_imports.csv_stream import Item, LineProblem


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    field: str | None
    message: str


@dataclass(slots=True)
class Batch:
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)  # phone -> the fields given, merged
    errors: list[LineError] = field(default_factory=list)
    rows: int = 0  # data rows read: valid and failed
    valid: int = 0
    failed: int = 0
    last_line: int = 0  # the last line of the file the batch covers (0: none)

    def add(self, item: Item, columns: Columns) -> None:
        self.last_line = item.last_line
        if isinstance(item, LineProblem):
            self._fail([LineError(item.line, None, item.message)])
            return
        if is_blank(item.cells):
            return
        try:
            values = columns.lead(item.cells)
        except RowInvalidError as exc:
            self._fail([LineError(item.line, p.field, p.message) for p in exc.problems])
            return
        self.rows += 1
        self.valid += 1
        self._merge(values.given())

    def _fail(self, errors: list[LineError]) -> None:
        self.rows += 1
        self.failed += 1
        self.errors.extend(errors)

    def _merge(self, given: dict[str, Any]) -> None:
        known = self.leads.get(given["phone"])
        if known is None:
            self.leads[given["phone"]] = given
            return
        custom = known.get("custom_fields", {}) | given.get("custom_fields", {})
        known.update(given)
        if custom:
            known["custom_fields"] = custom
