"""Reading a CSV file as it arrives: bytes in, records out, each with the lines of the file it spans.

Nothing holds more than the bytes fed in last and one record: the bytes are cut at newlines (a line over
``max_line_bytes`` is dropped as it arrives and reported), each line is decoded on its own (UTF-8; a
byte-order mark is allowed at the start of line 1), and the csv module reads records from those lines, so a
quoted field may span lines. A record that needs lines which have not arrived yet is read again, whole, once
more bytes are fed. Lines are numbered from 1 in the file; after the header, lines up to ``skip_through``
are dropped unread (an import resumes after the last line it stored).
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Record:
    """A record of the file: its cells and the lines it spans (``line`` to ``last_line``)."""

    line: int
    last_line: int
    cells: list[str]


@dataclass(frozen=True, slots=True)
class LineProblem:
    """Lines that hold no record: too long, not UTF-8, not CSV."""

    line: int
    last_line: int
    message: str


Item = Record | LineProblem


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    raw: bytes | None  # None: over the limit, dropped


class _NeedMore(Exception):
    """The record being read goes on in bytes not fed yet."""


class _BadLine(Exception):
    def __init__(self, problem: LineProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class CsvStream:
    """Feed bytes with :meth:`feed` (and :meth:`close` at the end); take what can be read with :meth:`items`.
    The first item is the header."""

    def __init__(self, max_line_bytes: int, *, skip_through: int = 0) -> None:
        self._max_line_bytes = max_line_bytes
        self._skip_through = skip_through
        self._lines: deque[_Line] = deque()
        self._partial = bytearray()
        self._partial_too_long = False
        self._cut = 0
        self._closed = False
        self._header_read = False
        self._taken: list[_Line] = []
        self._taken_bytes = 0
        self._reader = csv.reader(_LineFeed(self))

    def feed(self, data: bytes) -> None:
        pieces = data.split(b"\n")
        for piece in pieces[:-1]:
            self._end_line(piece, b"\n")
        self._extend_partial(pieces[-1])

    def close(self) -> None:
        """No more bytes: the last line needs no newline."""
        if self._partial or self._partial_too_long:
            self._end_line(b"", b"")
        self._closed = True

    def items(self) -> Iterator[Item]:
        """The records (and problems) that the bytes fed so far hold, in file order."""
        while True:
            self._taken.clear()
            self._taken_bytes = 0
            try:
                cells = next(self._reader)
            except _NeedMore:
                self._lines.extendleft(reversed(self._taken))
                return
            except StopIteration:
                return
            except _BadLine as bad:
                item: Item = bad.problem
            except csv.Error as exc:
                item = LineProblem(self._taken[0].number, self._taken[-1].number, f"not valid CSV: {exc}")
            else:
                item = Record(self._taken[0].number, self._taken[-1].number, cells)
            self._header_read = True
            yield item

    def _end_line(self, piece: bytes, newline: bytes) -> None:
        self._cut += 1
        too_long = self._partial_too_long or len(self._partial) + len(piece) > self._max_line_bytes
        if too_long:
            raw = None
        elif self._partial:
            raw = bytes(self._partial) + piece + newline
        else:
            raw = piece + newline
        self._partial.clear()
        self._partial_too_long = False
        self._lines.append(_Line(self._cut, raw))

    def _extend_partial(self, piece: bytes) -> None:
        if self._partial_too_long:
            return
        if len(self._partial) + len(piece) > self._max_line_bytes:
            self._partial.clear()
            self._partial_too_long = True
        else:
            self._partial += piece

    def _next_line(self) -> str:
        """The next line's text for the csv reader (raises :class:`_NeedMore`, :class:`_BadLine`)."""
        line = self._pop()
        self._taken.append(line)
        started = self._taken[0].number
        if line.raw is None:
            raise _BadLine(self._problem(started, line.number, f"longer than {self._max_line_bytes} bytes"))
        self._taken_bytes += len(line.raw)
        if self._taken_bytes > self._max_line_bytes:
            message = f"a record longer than {self._max_line_bytes} bytes (is a quote missing?)"
            raise _BadLine(LineProblem(started, line.number, message))
        try:
            text = line.raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"not UTF-8 text (byte {exc.start + 1} of the line)"
            raise _BadLine(self._problem(started, line.number, message)) from None
        return text.removeprefix(_BOM) if line.number == 1 else text

    def _pop(self) -> _Line:
        if self._header_read:
            while self._lines and self._lines[0].number <= self._skip_through:
                self._lines.popleft()
        if self._lines:
            return self._lines.popleft()
        if self._closed:
            raise StopIteration
        raise _NeedMore

    @staticmethod
    def _problem(started: int, number: int, message: str) -> LineProblem:
        if started != number:
            message = f"line {number}, inside a quoted field opened on line {started}: {message}"
        return LineProblem(started, number, message)


class _LineFeed:
    """The lines of a :class:`CsvStream`, as the csv reader pulls them."""

    def __init__(self, stream: CsvStream) -> None:
        self._stream = stream

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        return self._stream._next_line()
