"""Reading a server-sent event stream (``text/event-stream``) as the data of its events.

Follows the WHATWG rules that matter for Chat Completions streams: an event ends at a blank line, its
``data:`` lines are joined with newlines, one space after the colon is dropped, comment lines (``:``) and
other fields (``event:``, ``id:``, ``retry:``) are ignored. Data left without a closing blank line when the
stream ends is still returned: some servers omit the blank line after ``data: [DONE]``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable


async def sse_data(lines: AsyncIterable[str]) -> AsyncGenerator[str, None]:
    """The data of each event in ``lines`` (lines without their line endings, e.g. ``aiter_lines()``)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)
