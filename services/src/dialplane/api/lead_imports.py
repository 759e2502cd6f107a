"""Public models of the lead import API: a CSV file of leads is uploaded (``POST /api/v1/leads/import``,
multipart/form-data), stored as it arrives, and imported in the background; its job tells how far it got and
its error report which lines were refused and why.

The upload body is streamed straight through the gateway to the dialer, so the routes declare it in the
OpenAPI document only (:data:`IMPORT_REQUEST_BODY`): neither side reads it into a model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dialplane.api.routes import API_PREFIX

LEAD_IMPORT = f"{API_PREFIX}/leads/import"
LEAD_IMPORTS = f"{API_PREFIX}/leads/imports"
LEAD_IMPORT_JOB = f"{LEAD_IMPORTS}/{{import_id}}"
LEAD_IMPORT_ERRORS = f"{LEAD_IMPORT_JOB}/errors"

DEFAULT_ERRORS_LIMIT = 100
MAX_ERRORS_LIMIT = 1000

ImportStatus = Literal["receiving", "queued", "running", "completed", "failed"]
"""``queued`` once the whole file is stored; ``running`` while a worker imports it; ``completed`` (row errors
are in the error report) or ``failed`` (the file itself could not be read: see ``error``)."""

IMPORT_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "the leads as CSV, UTF-8 (a byte-order mark is allowed); the first"
                            " line names the columns and one of them is `phone`",
                        },
                        "campaign_id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "the imported leads join this campaign (`pending`)",
                        },
                    },
                }
            }
        },
    }
}
"""The upload body, for the OpenAPI document (``openapi_extra`` of the routes)."""


class LeadImport(BaseModel):
    """An import job."""

    model_config = ConfigDict(populate_by_name=True)

    id: UUID
    status: ImportStatus
    filename: str | None
    size: int = Field(alias="bytes", description="size of the uploaded file in bytes")
    campaign_id: UUID | None
    lines_done: int = Field(description="lines of the file read so far (the header is line 1)")
    rows_done: int = Field(description="data rows read so far (blank lines are not rows)")
    rows_created: int = Field(description="rows that created a lead")
    rows_merged: int = Field(description="rows merged into a lead with the same phone")
    rows_failed: int = Field(description="rows refused; see the error report")
    error: str | None = Field(description="why the file could not be imported (status `failed`)")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    errors_url: str = Field(description="the error report, by line")


class LeadImportError(BaseModel):
    line: int = Field(description="line of the file where the refused row starts (the header is line 1)")
    field: str | None = Field(description="the lead field (or custom column); none for a problem of the line")
    message: str


class LeadImportErrorList(BaseModel):
    items: list[LeadImportError]
    next_cursor: str | None


class ListImportErrorsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_ERRORS_LIMIT, ge=1, le=MAX_ERRORS_LIMIT)
    cursor: str | None = Field(default=None, max_length=200, description="`next_cursor` of the last page")
