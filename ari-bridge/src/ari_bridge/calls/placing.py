"""The calls this bridge process is placing: recorded as ``dialing`` (committed) and their ``POST /channels``
not answered yet. A reconcile must not judge them by a channel list that may predate their channel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Placing:
    def __init__(self) -> None:
        self._call_ids: set[str] = set()

    @contextmanager
    def call(self, call_id: str) -> Iterator[None]:
        """Around recording the call as dialing and its originate request."""
        self._call_ids.add(call_id)
        try:
            yield
        finally:
            self._call_ids.discard(call_id)

    def now(self) -> frozenset[str]:
        return frozenset(self._call_ids)
