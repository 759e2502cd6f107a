"""One attempt, with the transport under the test's control: the request goes to the address that was
checked, and a 2xx answer counts even when its body never ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from dialer.testing import pending_delivery
from dialer.webhooks import WebhookConfig
from dialer.webhooks.sender import attempt


async def test_the_request_goes_to_the_checked_address_with_the_name_as_host_and_sni() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async def resolver(host: str, port: int) -> list[str]:
        assert (host, port) == ("hooks.example.com", 8443)
        return ["93.184.216.34"]

    config = WebhookConfig(signing_secret="s", allow_private_targets=False)
    target = pending_delivery("https://hooks.example.com:8443/hook?token=x")
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        result = await attempt(client, config, target, resolver=resolver)

    assert result.kind == "delivered"
    [request] = seen
    assert str(request.url) == "https://93.184.216.34:8443/hook?token=x"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


async def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError("private targets are allowed: no lookup expected")


class EndlessBody(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"ok"
        await asyncio.sleep(3600)


async def test_a_2xx_whose_body_never_ends_is_delivered_without_waiting_for_the_body() -> None:
    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=EndlessBody())

    config = WebhookConfig(signing_secret="s", timeout_seconds=0.2, allow_private_targets=True)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        result = await attempt(client, config, pending_delivery("http://127.0.0.1:9/hook"), resolver=no_dns)

    assert (result.kind, result.status_code) == ("delivered", 200)
    assert result.duration_seconds < 0.5
