"""The CSV of an import, as it arrives: a ``text/csv`` body is read straight from the request; a multipart
body's ``file`` part is spooled by the form parser (in memory up to 1 MiB, on disk beyond) and read back in
chunks. Either way the import sees the bytes a chunk at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from starlette.datastructures import UploadFile

from dialer.errors import invalid_field
from dialplane.errors import DialplaneError

CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
CHUNK_BYTES = 64 * 1024


class UnsupportedMediaType(DialplaneError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


@asynccontextmanager
async def csv_chunks(request: Request) -> AsyncIterator[AsyncIterator[bytes]]:
    """The request's CSV, a chunk at a time; 415 for a body that is neither CSV nor multipart."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in CSV_MEDIA_TYPES:
        yield request.stream()
    elif media_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise invalid_field("file", "a multipart body needs a 'file' part holding the CSV")
            yield _read(upload)
    else:
        raise UnsupportedMediaType(
            "send the CSV as text/csv or as the 'file' part of multipart/form-data,"
            f" not {media_type or 'nothing'}"
        )


async def _read(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk
