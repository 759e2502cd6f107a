"""How a lead import job and its errors are shown."""

from __future__ import annotations

from typing import Any

from dialer.lead_imports.repository import ErrorRecord, ImportRecord
from dialplane.api.lead_imports import LEAD_IMPORT_ERRORS, LEAD_IMPORT_JOB, LeadImport, LeadImportError


def job_location(job: ImportRecord) -> str:
    return LEAD_IMPORT_JOB.format(import_id=job.id)


def job_view(job: ImportRecord) -> LeadImport:
    return LeadImport.model_validate(
        {
            "id": job.id,
            "status": job.status,
            "filename": job.filename,
            "bytes": job.bytes_total,
            "campaign_id": job.campaign_id,
            "lines_done": job.lines_done,
            "rows_done": job.rows_done,
            "rows_created": job.rows_created,
            "rows_merged": job.rows_merged,
            "rows_failed": job.rows_failed,
            "error": job.error,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "errors_url": LEAD_IMPORT_ERRORS.format(import_id=job.id),
        }
    )


def job_json(job: ImportRecord) -> dict[str, Any]:
    return job_view(job).model_dump(mode="json", by_alias=True)


def error_view(error: ErrorRecord) -> LeadImportError:
    return LeadImportError(line=error.line, field=error.field, message=error.message)
