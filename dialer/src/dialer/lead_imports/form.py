"""Reading a multipart/form-data body as it arrives, with python-multipart's streaming parser: the body comes
out as events (a part starts, with its name and file name; its data, a piece at a time; it ends), so a file
part is never held whole. A body that is not multipart, or not well formed, is a 422 naming ``body``."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from dialer.errors import invalid_field
from dialplane.errors import ValidationFailed

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_PARTS = 10
MAX_FILENAME = 255


@dataclass(frozen=True, slots=True)
class PartStart:
    name: str
    filename: str | None  # only a file part has one


@dataclass(frozen=True, slots=True)
class PartEnd:
    pass


Event = PartStart | bytes | PartEnd


def form_error(message: str) -> ValidationFailed:
    return invalid_field("body", message, "multipart")


def boundary(content_type: str | None) -> bytes:
    """The boundary of a multipart/form-data body; a 422 for any other body."""
    media_type, options = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data":
        shown = media_type.decode("latin-1") or "none"
        raise form_error(
            f"send the CSV as the 'file' part of a multipart/form-data body (Content-Type: {shown})"
        )
    value = options.get(b"boundary")
    if not value:
        raise form_error("the multipart/form-data Content-Type has no boundary")
    return value


async def events(body: AsyncIterator[bytes], boundary: bytes) -> AsyncGenerator[Event, None]:
    """The events of the body, in order, as its bytes arrive."""
    collector = _Collector()
    try:
        parser = MultipartParser(boundary, collector.callbacks())
    except FormParserError as exc:
        raise form_error(f"not a usable multipart boundary: {exc}") from None
    async for data in body:
        try:
            parser.write(data)
        except FormParserError as exc:
            raise form_error(f"not a well-formed multipart/form-data body: {exc}") from None
        found, collector.events = collector.events, []
        for event in found:
            yield event
    if not collector.ended:
        raise form_error("the multipart/form-data body ends before its closing boundary")


class _Collector:
    """The parser's callbacks: they turn what it finds into events."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.ended = False
        self._parts = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": lambda: self.events.append(PartEnd()),
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise form_error(f"more than {MAX_PARTS} parts; the upload takes 'file' and 'campaign_id'")
        self._disposition = b""

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self.events.append(data[start:end])

    def _header_end(self) -> None:
        if bytes(self._header_name).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            raise form_error("a part has no name (its Content-Disposition needs name=...)")
        filename = options.get(b"filename")
        self.events.append(PartStart(_text(name), None if filename is None else _file_name(filename)))

    def _end(self) -> None:
        self.ended = True


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace").replace("\x00", "")


def _file_name(value: bytes) -> str:
    """The file's own name, without the client's folders."""
    return PurePosixPath(_text(value).replace("\\", "/")).name[:MAX_FILENAME]
