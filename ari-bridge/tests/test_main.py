"""The ari-bridge service is ready only when both PostgreSQL and Asterisk's ARI answer."""

from __future__ import annotations

import socket

import httpx
import pytest
from pydantic import SecretStr

from ari_bridge.main import create_app
from ari_bridge.settings import Settings
from dialplane.testing.asterisk import AsteriskInfo
from dialplane.testing.http import app_client, service_settings


def settings(database_url: str, **overrides: object) -> Settings:
    values = {"ari_password": SecretStr("not-a-placeholder"), **overrides}
    return service_settings(Settings, database_url, **values)


async def readiness(
    app_settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.Response:
    async with app_client(create_app(app_settings, transport=transport)) as client:
        return await client.get("/ready")


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_not_ready_while_asterisk_is_unreachable(database_url: str, unused_port: int) -> None:
    response = await readiness(settings(database_url, ari_url=f"http://127.0.0.1:{unused_port}/ari"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert "ARI unreachable" in response.json()["checks"]["asterisk"]


async def test_not_ready_when_ari_refuses_the_credentials(database_url: str) -> None:
    refuse = httpx.MockTransport(lambda request: httpx.Response(401))
    response = await readiness(settings(database_url), transport=refuse)
    assert response.status_code == 503
    assert "refused the credentials" in response.json()["checks"]["asterisk"]


@pytest.mark.asterisk
async def test_ready_against_the_real_asterisk(database_url: str, asterisk: AsteriskInfo) -> None:
    app_settings = settings(
        database_url,
        environment="development",  # the local Asterisk uses the development credentials
        ari_url=asterisk.ari_url,
        ari_username=asterisk.username,
        ari_password=SecretStr(asterisk.password),
    )
    response = await readiness(app_settings)
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "asterisk": "ok"}
