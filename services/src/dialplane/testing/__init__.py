"""Pytest plugin with Dialplane's shared fixtures (real PostgreSQL, real Asterisk).

Enabled in the repository's root ``conftest.py`` with ``pytest_plugins = ["dialplane.testing"]``.
"""

from dialplane.testing.asterisk import asterisk, second_asterisk
from dialplane.testing.database import (
    database_url,
    db_engine,
    empty_database_url,
    event_stream,
    sessions,
)
from dialplane.testing.logs import pytest_configure
from dialplane.testing.nats_server import nats_url
from dialplane.testing.sipp import sipp

__all__ = [
    "asterisk",
    "database_url",
    "db_engine",
    "empty_database_url",
    "event_stream",
    "nats_url",
    "pytest_configure",
    "second_asterisk",
    "sessions",
    "sipp",
]
