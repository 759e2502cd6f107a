"""Reading CSV as it arrives: however the bytes are cut into chunks, the records and their line numbers are
the same, and the same as Python's csv module reads from the whole text."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from dialer.do_not_call.csv_records import Record, records

cells = st.text(alphabet='ab,"\n+1é', max_size=12)  # a CR inside a quoted field is read as a newline
rows = st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=8)


def as_csv(table: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode()


async def chunks(body: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    start = 0
    for cut in sorted(set(cuts)):
        yield body[start:cut]
        start = cut
    yield body[start:]


def read(body: bytes, cuts: list[int]) -> list[Record]:
    async def collect() -> list[Record]:
        return [record async for record in records(chunks(body, cuts))]

    return asyncio.run(collect())


@given(rows, st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_records_do_not_depend_on_the_chunks(table: list[list[str]], cuts: list[int]) -> None:
    body = as_csv(table)
    whole = read(body, [])
    assert read(body, [c for c in cuts if c <= len(body)]) == whole
    assert [record.cells for record in whole] == list(csv.reader(io.StringIO(body.decode(), newline="")))


def test_line_numbers_count_physical_lines() -> None:
    body = b'h\r\n\r\n"two\nlines",x\nlast'
    assert read(body, [3, 4, 9]) == [
        Record(1, ["h"]),
        Record(3, ["two\nlines", "x"]),
        Record(5, ["last"]),
    ]
