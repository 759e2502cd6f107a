"""Fixtures for the ARI client tests: a unique Stasis application per use, and a port nobody listens on.

Each test uses its own application name, so it never takes the ``dialplane`` application (one WebSocket per
application: a newer connection replaces the older) from another test or a developer's running bridge.
"""

from __future__ import annotations

import dataclasses
import socket
import uuid

import pytest

from dialplane.testing.asterisk import AsteriskInfo


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ari_app(asterisk: AsteriskInfo) -> AsteriskInfo:
    """The local Asterisk, with an application name of this test's own."""
    return dataclasses.replace(asterisk, app=unique("ari-test"))


@pytest.fixture
def node() -> str:
    """A node name of this test's own, so its metrics start from zero."""
    return unique("node")


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
