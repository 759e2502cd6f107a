"""The time the policy checks against: a dependency, so tests can set it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

Clock = Callable[[], dt.datetime]
"""Returns the current time, timezone-aware."""


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def get_clock() -> Clock:
    """The clock of the request (tests override this dependency with a fixed one)."""
    return system_clock


ClockDep = Annotated[Clock, Depends(get_clock)]
