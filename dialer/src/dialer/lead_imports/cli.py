"""``dialplane leads import FILE``: upload a CSV file of leads through the public API and follow its import.

The API is ``--api`` (else ``$DIALPLANE_API_URL``, else http://127.0.0.1:8000); the credentials ``--token``
(else ``$DIALPLANE_TOKEN``): an access token (``POST /api/v1/token``) or an API key (``dpk_…``) holding
``leads:write`` and ``leads:read``. The file is streamed, never read whole, with a progress bar; then the job
is polled until it ends, and its counts and first errors are printed.

Exit codes: 0 the import completed (rows may have been refused: see the errors), 1 it failed, or the API
refused the upload or could not be reached, 2 bad usage (no such file, no token).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

DEFAULT_API = "http://127.0.0.1:8000"
UPLOAD_PATH = "/api/v1/leads/import"
READ_BYTES = 256 * 1024
FINISHED = ("completed", "failed")


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("leads", help="leads: import a CSV file")
    leads = parser.add_subparsers(dest="leads_command", required=True)
    upload = leads.add_parser("import", help="import a CSV file of leads through the API and follow it")
    upload.add_argument("file", type=Path, help="the CSV file (UTF-8; the header names the columns)")
    upload.add_argument("--campaign", metavar="ID", help="the imported leads join this campaign")
    upload.add_argument(
        "--api", default=os.environ.get("DIALPLANE_API_URL", DEFAULT_API), help="the API's URL"
    )
    upload.add_argument(
        "--token",
        default=os.environ.get("DIALPLANE_TOKEN"),
        help="access token or API key ($DIALPLANE_TOKEN)",
    )
    upload.add_argument("--errors", type=int, default=10, metavar="N", help="errors to show (default 10)")
    upload.add_argument("--poll", type=float, default=0.5, metavar="SECONDS", help=argparse.SUPPRESS)
    upload.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    if not args.file.is_file():
        err.print(f"error: no such file: {args.file}")
        return 2
    if not args.token:
        err.print("error: no credentials: give --token or set DIALPLANE_TOKEN")
        return 2
    timeout = httpx.Timeout(60.0, connect=10.0)
    with httpx.Client(base_url=args.api, headers=credentials(args.token), timeout=timeout) as client:
        importer = LeadImportCommand(
            client, Console(), err, poll_interval=args.poll, shown_errors=args.errors
        )
        try:
            return importer.run(args.file, args.campaign)
        except httpx.TransportError as exc:
            err.print(f"error: the API at {args.api} cannot be reached: {exc}")
            return 1


def credentials(token: str) -> dict[str, str]:
    """An API key goes in ``X-API-Key``, an access token in ``Authorization``."""
    return {"X-API-Key": token} if token.startswith("dpk_") else {"Authorization": f"Bearer {token}"}


class LeadImportCommand:
    """Uploads a file, follows its job, prints the outcome (``out``) and the progress (``err``)."""

    def __init__(
        self, client: httpx.Client, out: Console, err: Console, *, poll_interval: float, shown_errors: int
    ) -> None:
        self._client = client
        self._out = out
        self._err = err
        self._poll_interval = poll_interval
        self._shown_errors = shown_errors

    def run(self, path: Path, campaign: str | None) -> int:
        started = time.monotonic()
        answer = self._upload(path, campaign)
        if answer.status_code != 202:
            self._problem("the upload was refused", answer)
            return 1
        job = self._follow(answer.headers["location"])
        if job is None:
            return 1
        self._summary(job, time.monotonic() - started)
        return 0 if job["status"] == "completed" else 1

    def _upload(self, path: Path, campaign: str | None) -> httpx.Response:
        size = path.stat().st_size
        with self._progress(DownloadColumn(), TransferSpeedColumn()) as progress:
            task = progress.add_task(f"uploading {path.name}", total=size)

            def sent(count: int) -> None:
                progress.advance(task, count)

            headers, body = multipart_upload(_read(path, sent), size, path.name, campaign)
            return self._client.post(UPLOAD_PATH, content=body, headers=headers)

    def _follow(self, location: str) -> dict[str, Any] | None:
        with self._progress(TextColumn("{task.fields[rows]} rows")) as progress:
            task = progress.add_task("importing", total=None, rows=0)
            while True:
                answer = self._client.get(location)
                if answer.status_code != 200:
                    self._problem("the import cannot be followed", answer)
                    return None
                job: dict[str, Any] = answer.json()
                progress.update(task, rows=job["rows_done"])
                if job["status"] in FINISHED:
                    return job
                time.sleep(self._poll_interval)

    def _summary(self, job: dict[str, Any], seconds: float) -> None:
        counts = f"{job['rows_created']} created, {job['rows_merged']} merged, {job['rows_failed']} failed"
        self._out.print(
            f"{job['status']}: {job['rows_done']} rows: {counts} ({job['filename']}, {seconds:.1f} s)"
        )
        if job["status"] == "failed":
            self._out.print(f"error: {job['error']}")
        if job["rows_failed"] and self._shown_errors > 0:
            self._errors(job)

    def _errors(self, job: dict[str, Any]) -> None:
        answer = self._client.get(job["errors_url"], params={"limit": min(self._shown_errors, 1000)})
        if answer.status_code != 200:
            self._problem("the errors cannot be read", answer)
            return
        page = answer.json()
        self._out.print(f"first errors (all of them: GET {job['errors_url']}):", highlight=False)
        for error in page["items"]:
            where = f"line {error['line']}" + (f", {error['field']}" if error["field"] else "")
            self._out.print(f"  {where}: {error['message']}", markup=False, highlight=False)

    def _problem(self, what: str, answer: httpx.Response) -> None:
        try:
            body = answer.json()
        except ValueError:
            body = {"detail": answer.text[:200]}
        self._err.print(f"error: {what}: {answer.status_code} {body.get('detail', '')}", markup=False)
        for error in body.get("errors", []):
            self._err.print(f"  {error.get('field')}: {error.get('message')}", markup=False)

    def _progress(self, *columns: Any) -> Progress:
        spinner, text = SpinnerColumn(), TextColumn("{task.description}")
        return Progress(
            spinner, text, BarColumn(), *columns, TimeElapsedColumn(), console=self._err, transient=True
        )


def multipart_upload(
    file: Iterable[bytes], size: int | None, filename: str, campaign_id: str | uuid.UUID | None
) -> tuple[dict[str, str], Iterator[bytes]]:
    """(headers, body) of a multipart/form-data upload of ``file`` (``size`` bytes, when known, makes a
    Content-Length), the campaign first: the body is made as it is sent."""
    boundary = uuid.uuid4().hex
    head = b""
    if campaign_id is not None:
        head = _part_head(boundary, 'name="campaign_id"') + str(campaign_id).encode() + b"\r\n"
    safe_name = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
    head += _part_head(boundary, f'name="file"; filename="{safe_name}"', "text/csv")
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if size is not None:
        headers["Content-Length"] = str(len(head) + size + len(tail))

    def body() -> Iterator[bytes]:
        yield head
        yield from file
        yield tail

    return headers, body()


def _part_head(boundary: str, disposition: str, content_type: str | None = None) -> bytes:
    head = f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n"


def _read(path: Path, sent: Callable[[int], None]) -> Iterator[bytes]:
    with path.open("rb") as file:
        while data := file.read(READ_BYTES):
            sent(len(data))
            yield data
