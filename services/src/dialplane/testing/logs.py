"""Logs in tests: the plugin configures logging as the services do before any test runs (so every logger
renders through the standard library handler, whatever the order of the tests), and
:func:`captured_logs` collects the rendered lines of a block."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dialplane.log import configure_logging


def pytest_configure(config: pytest.Config) -> None:
    configure_logging(level="INFO", service="test")


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line rendered by the configured handler (structlog's formatter) while the block runs."""
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(root.handlers[0].formatter if root.handlers else None)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
