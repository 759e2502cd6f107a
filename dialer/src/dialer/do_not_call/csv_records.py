"""Reading CSV as it arrives: bytes in, records out, one at a time, with the line each record starts on.

A file can have millions of lines, so nothing holds more than one record: the bytes are cut at newlines (a
line longer than :data:`MAX_LINE_BYTES` is reported, not kept), each line is decoded on its own (UTF-8, a
byte-order mark allowed on the first), and lines are joined only while a quoted field is open (RFC 4180: a
record ends at a newline outside quotes; quotes inside a quoted field are doubled, so their count tells).
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

MAX_LINE_BYTES = 4096
MAX_RECORD_CHARS = 4 * MAX_LINE_BYTES
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Record:
    """A record of the file: its cells, or why it cannot be read. ``line`` is where it starts (1-based)."""

    line: int
    cells: list[str] | None
    error: str | None = None


async def physical_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[tuple[int, bytes | None]]:
    """(line number, line without its newline), None for a line over :data:`MAX_LINE_BYTES`."""
    buffer, number, overlong = bytearray(), 0, False
    async for chunk in chunks:
        buffer += chunk
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            number += 1
            yield number, None if overlong or end - start > MAX_LINE_BYTES else bytes(buffer[start:end])
            start, overlong = end + 1, False
        del buffer[:start]
        if len(buffer) > MAX_LINE_BYTES:
            buffer.clear()
            overlong = True
    if buffer or overlong:
        yield number + 1, None if overlong else bytes(buffer)


def _decoded(number: int, raw: bytes | None) -> tuple[str | None, str | None]:
    """(text, error) of one line."""
    if raw is None:
        return None, f"the line is longer than {MAX_LINE_BYTES} bytes"
    if number == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        text = raw.removesuffix(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        return None, "the line is not UTF-8 text"
    if "\x00" in text:
        return None, "the line contains a NUL character"
    return text, None


def _parsed(line: int, text: str) -> Record:
    try:
        return Record(line, next(csv.reader([text], strict=True)))
    except csv.Error as exc:
        return Record(line, None, f"not a CSV record: {exc}")


class _Joiner:
    """The lines of the record being read (more than one while a quoted field spans lines)."""

    def __init__(self) -> None:
        self.first = 0
        self.lines: list[str] = []
        self.size = self.quotes = 0

    def add(self, number: int, text: str) -> str | None:
        """The whole record once ``text`` completes it, else None."""
        if not self.lines:
            self.first = number
        self.lines.append(text)
        self.size += len(text)
        self.quotes += text.count('"')
        if self.quotes % 2:
            return None
        return self.take()

    def take(self) -> str:
        text = "\n".join(self.lines)
        self.lines, self.size, self.quotes = [], 0, 0
        return text


async def records(chunks: AsyncIterable[bytes]) -> AsyncIterator[Record]:
    """The records of a CSV byte stream; blank lines are skipped."""
    pending = _Joiner()
    async for number, raw in physical_lines(chunks):
        text, error = _decoded(number, raw)
        if error is not None or text is None:
            if pending.lines:
                yield _unclosed(pending)
            yield Record(number, None, error)
            continue
        if not pending.lines and not text.strip():
            continue
        whole = pending.add(number, text)
        if whole is not None:
            yield _parsed(pending.first, whole)
        elif pending.size > MAX_RECORD_CHARS:
            yield _unclosed(pending)
    if pending.lines:
        yield _unclosed(pending)


def _unclosed(pending: _Joiner) -> Record:
    first = pending.first
    pending.take()
    return Record(first, None, "a quoted field is not closed (a '\"' is missing)")
