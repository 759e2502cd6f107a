"""Public models of the do-not-call API (``/api/v1/do-not-call``): exact numbers and number prefixes that are
never dialed, on the global list (every call) or on one campaign's list (that campaign's calls).

These models check the shape of a request; the dialer normalises exact numbers to E.164 (the numbering plan)
and answers 422 naming the field in the same way.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from dialplane.api.calls import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Moment, PhoneNumber, Text

DO_NOT_CALL = "/api/v1/do-not-call"
DO_NOT_CALL_ENTRY = f"{DO_NOT_CALL}/{{entry_id}}"
DO_NOT_CALL_CHECK = f"{DO_NOT_CALL}/check"
DO_NOT_CALL_IMPORT = f"{DO_NOT_CALL}/import"
DO_NOT_CALL_EXPORT = f"{DO_NOT_CALL}/export"

IMPORT_COLUMNS = ("number", "match", "reason", "expires_at")
EXPORT_COLUMNS = ("number", "match", "reason", "source", "created_at", "expires_at")
MAX_IMPORT_ERRORS = 1000
MAX_REASON_LENGTH = 500
MAX_ENTRY_ID = 2**63 - 1
PREFIX_PATTERN = r"^\+[0-9]{1,15}$"
_EXACT_PATTERN = re.compile(r"^\+[0-9][0-9 ().-]*$")

Match = Literal["exact", "prefix"]
NumberPrefix = Annotated[str, StringConstraints(strip_whitespace=True, pattern=PREFIX_PATTERN)]
"""``+`` and 1 to 15 digits: every number starting with them."""
EntryId = Annotated[int, Field(ge=1, le=MAX_ENTRY_ID)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def number_shape(value: str, match: str) -> str:
    """``value`` if it has the shape of its kind: an international number (exact) or ``+`` and digits
    (prefix); ValueError naming the problem otherwise."""
    value = value.strip()
    if match == "prefix":
        if re.fullmatch(PREFIX_PATTERN, value) is None:
            raise ValueError("a prefix is '+' and 1 to 15 digits, nothing else")
        return value
    if _EXACT_PATTERN.fullmatch(value) is None:
        raise ValueError("an international number: '+', then digits (spaces, dots, dashes allowed)")
    digits = sum(ch.isdigit() for ch in value)
    if not 7 <= digits <= 15:
        raise ValueError(f"an E.164 number has 7 to 15 digits, this one has {digits}")
    return value


class AddEntryRequest(_Strict):
    """``POST /api/v1/do-not-call``."""

    match: Match = Field(default="exact", description="exact: this number; prefix: every number starting so")
    number: Text = Field(max_length=32, description="E.164 number (exact) or '+' and 1-15 digits (prefix)")
    campaign_id: UUID | None = Field(
        default=None, description="that campaign's list; default: the global list"
    )
    reason: Text | None = Field(default=None, max_length=MAX_REASON_LENGTH)
    expires_at: Moment | None = Field(default=None, description="in the future; default: never expires")

    @field_validator("number")
    @classmethod
    def _shaped(cls, value: str, info: ValidationInfo) -> str:
        if "match" not in info.data:  # the match itself is wrong; that error is enough
            return value
        return number_shape(value, info.data["match"])


class DoNotCallEntry(BaseModel):
    """An entry of a do-not-call list."""

    id: int
    number: str = Field(description="E.164 number, or a prefix")
    match: Match
    campaign_id: UUID | None = Field(description="null: the global list")
    reason: str | None
    source: str | None = Field(description="api, import, or call:<id> (the person opted out on that call)")
    created_by: str | None = Field(description="the principal that listed it")
    created_at: datetime
    expires_at: datetime | None = Field(description="null: never expires")


class DoNotCallList(BaseModel):
    items: list[DoNotCallEntry] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page; null at the end")


class ListDoNotCallQuery(BaseModel):
    """Query of ``GET /api/v1/do-not-call``: one list, newest entries first."""

    campaign_id: UUID | None = Field(
        default=None, description="that campaign's list; default: the global list"
    )
    match: Match | None = None
    number: NumberPrefix | None = Field(default=None, description="entries whose number starts with this")
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)


class CheckQuery(BaseModel):
    """Query of ``GET /api/v1/do-not-call/check``."""

    number: PhoneNumber
    campaign_id: UUID | None = Field(
        default=None, description="check that campaign's list too; default: the global list only"
    )


class CheckResult(BaseModel):
    blocked: bool = Field(description="a dial to the number would be refused by the do-not-call rule")
    entry: DoNotCallEntry | None = Field(description="the entry that blocks it (exact before longest prefix)")


class ListQuery(BaseModel):
    """Query of the import and the export: which list."""

    campaign_id: UUID | None = Field(
        default=None, description="that campaign's list; default: the global list"
    )


class ImportRowError(BaseModel):
    line: int = Field(description="line of the file, 1 = the header")
    field: str | None = Field(description="the column, or null when the line as a whole is wrong")
    message: str


class ImportResult(BaseModel):
    added: int
    already_listed: int = Field(
        description="rows whose entry was on the list already (or earlier in the file)"
    )
    invalid: int
    errors: list[ImportRowError] = Field(description=f"the first {MAX_IMPORT_ERRORS} invalid rows")


IMPORT_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "CSV with a header: number[,match][,reason][,expires_at]; read as it arrives",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}
"""OpenAPI of the import's body (the route reads the body itself, so FastAPI cannot describe it)."""

EXPORT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "CSV: " + ",".join(EXPORT_COLUMNS) + " (the entries in force, newest first)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
