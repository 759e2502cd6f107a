"""Receiving a lead file: the multipart body is read as it arrives, the ``file`` part is stored in chunks of
about 256 KiB (``lead_import_chunks``) in the request's transaction and its header is checked as soon as it
has arrived; then the job is ``queued`` for a worker. Nothing holds more than a chunk of the file.

Every problem is a 422 naming it (``body``, ``file``, ``campaign_id``); the request's transaction is then
rolled back, so nothing of a refused upload is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.errors import invalid_field
from dialer.lead_imports import form, metrics, repository
from dialer.lead_imports.columns import Columns, HeaderError
from dialer.lead_imports.csv_stream import CsvStream, LineProblem
from dialer.lead_imports.repository import ImportRecord
from dialplane.internal_auth import Principal

log = structlog.get_logger(__name__)

CHUNK_BYTES = 256 * 1024
MAX_FIELD_BYTES = 100
FIELDS = ("file", "campaign_id")


async def receive(
    session: AsyncSession,
    principal: Principal,
    body: AsyncIterator[bytes],
    content_type: str | None,
    max_line_bytes: int,
) -> ImportRecord:
    """Store the uploaded file and queue its import; the job."""
    boundary = form.boundary(content_type)
    upload = _Upload(session, uuid.uuid4(), max_line_bytes)
    await repository.insert_job(session, upload.import_id, principal.id)
    async with aclosing(form.events(body, boundary)) as events:
        async for event in events:
            await upload.handle(event)
    job = await upload.finish()
    metrics.UPLOADED_BYTES.inc(job.bytes_total)
    log.info(
        "lead_import_received",
        import_id=str(job.id),
        bytes=job.bytes_total,
        chunks=job.chunks_total,
        campaign_id=None if job.campaign_id is None else str(job.campaign_id),
    )
    return job


class _FileSink:
    """The file part: stored a chunk at a time; its header checked once it has arrived."""

    def __init__(self, session: AsyncSession, import_id: uuid.UUID, max_line_bytes: int) -> None:
        self._session = session
        self._import_id = import_id
        self._buffer = bytearray()
        self._header: CsvStream | None = CsvStream(max_line_bytes)
        self.size = 0
        self.chunks = 0

    async def write(self, data: bytes) -> None:
        self.size += len(data)
        self._buffer += data
        if self._header is not None:
            self._header.feed(data)
            self._check_header()
        while len(self._buffer) >= CHUNK_BYTES:
            await self._flush(CHUNK_BYTES)

    async def close(self) -> None:
        await self._flush(len(self._buffer))
        if self.size == 0:
            raise invalid_field("file", "the file is empty")
        if self._header is not None:
            self._header.close()
            self._check_header()
        if self._header is not None:
            raise invalid_field("file", "the file has no header line naming the columns")

    async def _flush(self, size: int) -> None:
        if size:
            await repository.add_chunk(
                self._session, self._import_id, self.chunks, bytes(self._buffer[:size])
            )
            self.chunks += 1
            del self._buffer[:size]

    def _check_header(self) -> None:
        assert self._header is not None
        for item in self._header.items():
            if isinstance(item, LineProblem):
                raise invalid_field("file", f"the header (line 1) is {item.message}")
            try:
                Columns.from_header(item.cells)
            except HeaderError as exc:
                raise invalid_field("file", str(exc)) from None
            self._header = None
            return


class _Upload:
    """The parts of the form as they arrive: one ``file``, at most one ``campaign_id``."""

    def __init__(self, session: AsyncSession, import_id: uuid.UUID, max_line_bytes: int) -> None:
        self.import_id = import_id
        self._session = session
        self._max_line_bytes = max_line_bytes
        self._file: _FileSink | None = None
        self._filename: str | None = None
        self._campaign_id: uuid.UUID | None = None
        self._part: str | None = None
        self._seen: set[str] = set()
        self._value = bytearray()

    async def handle(self, event: form.Event) -> None:
        if isinstance(event, form.PartStart):
            self._start(event)
        elif isinstance(event, form.PartEnd):
            await self._end()
        elif self._file is not None and self._part == "file":
            await self._file.write(event)
        else:
            self._value += event
            if len(self._value) > MAX_FIELD_BYTES:
                raise invalid_field(str(self._part), f"longer than {MAX_FIELD_BYTES} bytes")

    async def finish(self) -> ImportRecord:
        if self._file is None:
            raise invalid_field("file", "missing: send the CSV as the 'file' part of the form")
        return await repository.queue_job(
            self._session,
            self.import_id,
            filename=self._filename,
            campaign_id=self._campaign_id,
            bytes_total=self._file.size,
            chunks_total=self._file.chunks,
        )

    def _start(self, part: form.PartStart) -> None:
        if part.name not in FIELDS:
            raise invalid_field(part.name, f"not a field of the upload (it takes {', '.join(FIELDS)})")
        if part.name in self._seen:
            raise invalid_field(part.name, "given more than once")
        self._seen.add(part.name)
        self._part = part.name
        self._value.clear()
        if part.name == "file":
            self._file = _FileSink(self._session, self.import_id, self._max_line_bytes)
            self._filename = part.filename

    async def _end(self) -> None:
        if self._part == "file" and self._file is not None:
            await self._file.close()
        elif self._part == "campaign_id":
            self._campaign_id = await self._campaign(self._value.decode("utf-8", errors="replace").strip())
        self._part = None

    async def _campaign(self, text: str) -> uuid.UUID | None:
        if not text:
            return None
        try:
            campaign_id = uuid.UUID(text)
        except ValueError:
            raise invalid_field("campaign_id", f"{text[:40]!r} is not a campaign id (a UUID)") from None
        if not await repository.campaign_exists(self._session, campaign_id):
            raise invalid_field("campaign_id", f"no campaign with id {campaign_id}", "campaign_not_found")
        return campaign_id
