"""SSRF through webhooks, beyond what ``tests/webhooks/test_targets.py`` covers: a call cannot be created with
a non-public callback, a public receiver cannot redirect a delivery to an internal address, and a name with
any non-public address among its answers is refused before anything is sent."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from dialer.testing import pending_delivery
from dialer.webhooks import WebhookConfig
from dialer.webhooks.sender import attempt, create_client
from dialer.webhooks.targets import Resolver
from dialplane.db import SessionFactory, transaction

METADATA = "http://169.254.169.254/latest/meta-data/"


def resolving_to(*addresses: str) -> Resolver:
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


@pytest.mark.parametrize(
    "callback",
    [METADATA, "http://127.0.0.1:8000/api/v1/api-keys", "http://[::ffff:10.0.0.1]/", "http://localhost/"],
)
async def test_a_call_with_a_non_public_callback_is_refused_and_not_recorded(
    client: httpx.AsyncClient, sessions: SessionFactory, callback: str
) -> None:
    response = await client.post("/api/v1/calls", json={"to": "+12025550100", "status_callback": callback})
    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["errors"] if e["field"] == "status_callback"]
    assert "public" in error["message"] or "local" in error["message"]
    async with transaction(sessions) as session:
        assert await session.scalar(text("SELECT count(*) FROM calls")) == 0


async def test_a_redirect_to_an_internal_address_is_not_followed() -> None:
    seen: list[httpx.URL] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(302, headers={"Location": METADATA})

    config = WebhookConfig(signing_secret="s", allow_private_targets=False)
    transport = httpx.MockTransport(receiver)
    async with httpx.AsyncClient(transport=transport, follow_redirects=True) as following:  # even so
        result = await attempt(
            following,
            config,
            pending_delivery("https://hooks.example.com/h"),
            resolver=resolving_to("93.184.216.34"),
        )
    assert [str(url) for url in seen] == ["https://93.184.216.34/h"]
    assert (result.kind, result.status_code) == ("retry", 302)


async def test_the_webhook_client_ignores_proxies_and_redirects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
    async with create_client() as client:
        assert client.follow_redirects is False
        assert client.trust_env is False


@pytest.mark.parametrize(
    "answers",
    [
        ("93.184.216.34", "10.0.0.1"),  # one private answer among public ones
        ("169.254.169.254",),
        ("fe80::1%eth0",),
        ("::ffff:127.0.0.1",),
        ("64:ff9b::7f00:1",),  # NAT64 of 127.0.0.1
        ("not-an-address",),
    ],
)
async def test_a_name_with_any_non_public_answer_gets_nothing_sent(answers: tuple[str, ...]) -> None:
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    config = WebhookConfig(signing_secret="s", allow_private_targets=False)
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        result = await attempt(
            client, config, pending_delivery("https://hooks.example.com/h"), resolver=resolving_to(*answers)
        )
    assert result.kind == "refused" and "not public" in (result.error or "")
    assert seen == []
