"""Test support for lead imports (tests and ``bench/lead_import.py``): lead files of any size made on the fly,
with deliberate errors whose report is known in advance, and multipart bodies streamed from them.

A :class:`LeadFile` is never held whole: :meth:`LeadFile.pieces` makes its bytes again each time it is
iterated, and :meth:`LeadFile.expected` tells what an import of it must report.
"""

from __future__ import annotations

import ctypes
import gc
import re
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dialer.lead_imports.cli import multipart_upload

HEADER = "Phone,Name,E-mail,Time Zone,language,consent,Consent Source,partner,notes"
COLUMNS = 9
AREA_CODES = (201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 220)
ERROR_EVERY = 97  # every 97th row has a deliberate problem
DUPLICATE_EVERY = 13  # every 13th row repeats the phone of a row a few lines before (the same batch)
FAR_DUPLICATE_EVERY = 1013  # ... and every 1013th the phone of the row 5,000 rows before (another batch)
MULTILINE_EVERY = 1009  # a quoted note spanning two lines
BLANK_EVERY = 2003  # an empty line (not a row)

# The deliberate problems, taken in turn by every ERROR_EVERY-th row (see LeadFile._bad_row).
PROBLEMS = (
    "phone",
    "timezone",
    "consent",
    "extra_cell",
    "missing_cell",
    "no_phone",
    "email_and_language",
    "not_utf8",
    "long_line",
)


def phone_number(n: int) -> str:
    """The n-th of 180,000 valid numbers (+1 AAA 555 NNNN)."""
    area, rest = AREA_CODES[n // 10_000 % len(AREA_CODES)], n % 10_000
    return f"+1{area}555{rest:04d}"


@dataclass(frozen=True, slots=True)
class ExpectedError:
    line: int
    field: str | None
    words: str  # found in the message


@dataclass
class Expected:
    """What the import of a :class:`LeadFile` must report, given the phones that exist before it."""

    lines: int = 1
    rows: int = 0
    created: int = 0
    merged: int = 0
    failed: int = 0
    errors: list[ExpectedError] = field(default_factory=list)
    last_name: dict[str, str] = field(default_factory=dict)  # phone of a repeated row -> the name that wins


@dataclass(frozen=True)
class LeadFile:
    rows: int
    max_line_bytes: int = 65_536
    errors: bool = True

    def pieces(self, size: int = 64 * 1024) -> Iterator[bytes]:
        """The file's bytes, ``size`` at a time (a BOM first, CRLF line ends)."""
        buffer = bytearray("\ufeff".encode() + HEADER.encode() + b"\r\n")
        for _, raw, _ in self._rows():
            buffer += raw
            while len(buffer) >= size:
                yield bytes(buffer[:size])
                del buffer[:size]
        if buffer:
            yield bytes(buffer)

    def expected(self, existing: Iterable[str] = ()) -> Expected:
        seen, result = set(existing), Expected()
        for n, raw, outcome in self._rows():
            line = result.lines + 1
            result.lines += raw.count(b"\n")
            if outcome is None:
                continue
            result.rows += 1
            if isinstance(outcome, list):
                result.failed += 1
                result.errors += [ExpectedError(line, f, words) for f, words in outcome]
                continue
            phone = outcome
            if phone in seen:
                result.merged += 1
                result.last_name[phone] = f"Lead {n}"
            else:
                result.created += 1
                seen.add(phone)
        return result

    def _rows(self) -> Iterator[tuple[int, bytes, str | list[tuple[str | None, str]] | None]]:
        """(row number, bytes, outcome): the phone of a valid row, the errors of a bad one, None for a
        blank line."""
        for n in range(1, self.rows + 1):
            if n % BLANK_EVERY == 0:
                yield n, b"\r\n", None
            phone = phone_number(_phone_of(n))
            cells = [
                phone,
                f"Lead {n}",
                f"lead{n}@example.com",
                "America/New_York",
                "en",
                "yes",
                "web",
                "",
                "",
            ]
            if self.errors and n % ERROR_EVERY == 0:
                yield n, *self._bad_row(n, cells)
                continue
            cells[8] = f'"note {n}\nsecond line"' if n % MULTILINE_EVERY == 0 else f"note {n}"
            yield n, (",".join(cells) + "\r\n").encode(), phone

    def _bad_row(self, n: int, cells: list[str]) -> tuple[bytes, list[tuple[str | None, str]]]:
        kind = PROBLEMS[n // ERROR_EVERY % len(PROBLEMS)]
        if kind == "not_utf8":
            return b"\xff" + ",".join(cells).encode() + b"\r\n", [(None, "UTF-8")]
        if kind == "long_line":
            cells[8] = "x" * self.max_line_bytes
            return (",".join(cells) + "\r\n").encode(), [(None, "longer than")]
        problems: list[tuple[str | None, str]]
        if kind == "phone":
            cells[0], problems = "+1 555 0100", [("phone", "not a valid number")]
        elif kind == "timezone":
            cells[3], problems = "Mars/Olympus_Mons", [("timezone", "unknown time zone")]
        elif kind == "consent":
            cells[5], problems = "maybe", [("consent", "true or false")]
        elif kind == "extra_cell":
            cells, problems = [*cells, "extra"], [(None, f"found {COLUMNS + 1}")]
        elif kind == "missing_cell":
            cells, problems = cells[:-1], [(None, f"found {COLUMNS - 1}")]
        elif kind == "no_phone":
            cells[0], problems = "", [("phone", "needs a phone")]
        else:
            cells[2], cells[4] = "not-an-email", "english!"
            problems = [("email", "not an email"), ("language", "not a language")]
        return (",".join(cells) + "\r\n").encode(), problems


def _phone_of(n: int) -> int:
    if n % FAR_DUPLICATE_EVERY == 0 and n > 5000:
        return n - 5000
    return n - n % DUPLICATE_EVERY if n % DUPLICATE_EVERY == 7 else n


def multipart_body(
    file: Iterable[bytes], *, campaign_id: uuid.UUID | str | None = None, filename: str = "leads.csv"
) -> tuple[str, Iterator[bytes]]:
    """(Content-Type, body): a multipart/form-data upload of ``file`` (``campaign_id`` first), made as it is
    sent, as the command line makes it."""
    headers, body = multipart_upload(file, None, filename, campaign_id)
    return headers["Content-Type"], body


async def streamed(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    """An async byte stream (an httpx request body that is sent as it is made)."""
    for piece in pieces:
        yield piece


@dataclass
class MemoryPeak:
    """How much more memory the process used at its peak than when the measure started (bytes)."""

    measure: str  # "rss": resident memory, all of it; "tracemalloc": Python's allocations
    growth: int = 0


@contextmanager
def peak_memory() -> Iterator[MemoryPeak]:
    """The peak growth of this process's memory over the block. On Linux with glibc, resident memory, which
    costs nothing to watch: free memory is first handed back to the system (``malloc_trim``), so that what
    the block needs shows as growth, and the high-water mark is reset (``/proc/self/clear_refs``).
    Elsewhere Python's allocations (tracemalloc, which slows allocation-heavy code down a few times)."""
    try:
        start = _trimmed_rss()
    except OSError:
        with _traced() as peak:
            yield peak
        return
    peak = MemoryPeak("rss")
    yield peak
    peak.growth = _status_bytes("VmHWM") - start


def _trimmed_rss() -> int:
    """The resident memory once the free memory is returned, with the high-water mark reset to it."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError) as exc:
        raise OSError("no glibc malloc_trim") from exc
    Path("/proc/self/clear_refs").write_text("5")
    return _status_bytes("VmRSS")


@contextmanager
def _traced() -> Iterator[MemoryPeak]:
    peak = MemoryPeak("tracemalloc")
    tracemalloc.start()
    try:
        yield peak
        peak.growth = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _status_bytes(name: str) -> int:
    found = re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    if found is None:
        raise OSError(f"no {name} in /proc/self/status")
    return int(found.group(1)) * 1024
