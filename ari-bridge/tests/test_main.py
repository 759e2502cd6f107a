"""The ari-bridge service is ready only when PostgreSQL answers and every node's event socket is connected;
a node it cannot use is named in /ready with the reason, and the bridge keeps retrying without crashing."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from ari_bridge.main import create_app
from ari_bridge.settings import NodeConfig, Settings
from ari_bridge.testing import bridge_settings, wait_ready
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.http import app_client


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def readiness_after(settings: Settings, seconds: float) -> tuple[httpx.Response, dict[str, object]]:
    async with app_client(create_app(settings)) as client:
        await asyncio.sleep(seconds)  # the node's socket retries meanwhile
        ready = await client.get("/ready")
        nodes = (await client.get("/nodes")).json()[0]
    return ready, nodes


async def test_not_ready_while_the_node_is_unreachable(database_url: str, asterisk: AsteriskInfo) -> None:
    settings = bridge_settings(database_url, asterisk)
    settings.nodes[0].ari_url = f"http://127.0.0.1:{unused_port()}/ari"
    ready, node = await readiness_after(settings, 1.5)
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "ok"
    assert "connection refused" in ready.json()["checks"]["asterisk:local"]
    assert node["connected"] is False and "connection refused" in str(node["last_error"])


@pytest.mark.asterisk
async def test_not_ready_when_ari_refuses_the_credentials(database_url: str, asterisk: AsteriskInfo) -> None:
    settings = bridge_settings(database_url, asterisk)
    settings.nodes[0].password = SecretStr("wrong-password")
    ready, _ = await readiness_after(settings, 1.5)
    assert ready.status_code == 503
    assert "ARI refused the credentials (401)" in ready.json()["checks"]["asterisk:local"]
    assert "wrong-password" not in ready.text


@pytest.mark.asterisk
async def test_ready_against_the_real_asterisk(database_url: str, asterisk: AsteriskInfo) -> None:
    async with app_client(create_app(bridge_settings(database_url, asterisk))) as client:
        await wait_ready(client)
        assert (await client.get("/ready")).json()["checks"] == {"database": "ok", "asterisk:local": "ok"}


def test_a_trunk_without_a_number_placeholder_is_refused() -> None:
    with pytest.raises(ValidationError, match="dial_string must look like"):
        Settings(trunks=[{"name": "t", "dial_string": "PJSIP/provider"}])  # type: ignore[list-item]


def test_an_unknown_default_trunk_is_refused() -> None:
    with pytest.raises(ValidationError, match="default_trunk 'x' is not one of the configured trunks"):
        Settings(default_trunk="x")


def test_node_passwords_are_checked_for_placeholders_outside_development() -> None:
    with pytest.raises(ValidationError, match=r"nodes\.0\.password has a placeholder value"):
        Settings(environment="production", internal_token=SecretStr("a-real-token-123"), nodes=[NodeConfig()])
