"""A CSV file read as its bytes arrive: records come out with the lines they span, whatever the pieces the
bytes arrive in; lines that cannot be read are reported and skipped; an import resumes after a line."""

from __future__ import annotations

from dialer.lead_imports.csv_stream import CsvStream, Item, LineProblem, Record

FILE = (
    "\ufeffphone,name,notes\r\n"
    "+12025550100,Ann,plain\r\n"
    '+12025550101,"Bob, Jr.","two\r\nlines"\r\n'
    "\r\n"
    '+12025550102,Cy,"say ""hi"""\r\n'
    "+12025550103,Di,last"
).encode()


def read(data: bytes, piece: int, *, max_line_bytes: int = 1024, skip_through: int = 0) -> list[Item]:
    stream = CsvStream(max_line_bytes, skip_through=skip_through)
    items: list[Item] = []
    for start in range(0, len(data), piece):
        stream.feed(data[start : start + piece])
        items += stream.items()
    stream.close()
    return items + list(stream.items())


def test_records_and_their_lines_do_not_depend_on_how_the_bytes_arrive() -> None:
    expected = [
        Record(1, 1, ["phone", "name", "notes"]),
        Record(2, 2, ["+12025550100", "Ann", "plain"]),
        Record(3, 4, ["+12025550101", "Bob, Jr.", "two\r\nlines"]),
        Record(5, 5, []),
        Record(6, 6, ["+12025550102", "Cy", 'say "hi"']),
        Record(7, 7, ["+12025550103", "Di", "last"]),
    ]
    for piece in (1, 2, 3, 7, 64, len(FILE)):
        assert read(FILE, piece) == expected, piece


def test_a_line_too_long_or_not_utf8_is_reported_and_the_next_ones_are_read() -> None:
    data = b"phone\n" + b"1" * 50 + b"\nok\n\xffbad\ngood\n" + b"2" * 30
    items = read(data, 7, max_line_bytes=20)
    assert items == [
        Record(1, 1, ["phone"]),
        LineProblem(2, 2, "longer than 20 bytes"),
        Record(3, 3, ["ok"]),
        LineProblem(4, 4, "not UTF-8 text (byte 1 of the line)"),
        Record(5, 5, ["good"]),
        LineProblem(6, 6, "longer than 20 bytes"),
    ]


def test_an_unclosed_quote_ends_at_the_size_limit_and_reading_goes_on() -> None:
    data = b'phone\n"open,\n' + b"x\n" * 12 + b"after\n"
    items = read(data, 5, max_line_bytes=16)
    assert isinstance(items[1], LineProblem)
    assert (items[1].line, "longer than 16 bytes (is a quote missing?)" in items[1].message) == (2, True)
    assert isinstance(items[-1], Record) and items[-1].cells == ["after"] and items[-1].line == 15


def test_resuming_skips_the_lines_already_done_but_still_reads_the_header() -> None:
    items = read(FILE, 5, skip_through=4)
    assert [item.line for item in items] == [1, 5, 6, 7]
    assert isinstance(items[0], Record) and items[0].cells == ["phone", "name", "notes"]
