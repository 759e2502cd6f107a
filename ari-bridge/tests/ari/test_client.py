"""AriClient against the real Asterisk (marked ``asterisk``) and, for error mapping, a mock transport."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from ari_bridge.ari import (
    AriAuthError,
    AriClient,
    AriConflictError,
    AriError,
    AriNotFoundError,
    AriUnavailableError,
)
from dialplane.testing.asterisk import AriTestClient, AsteriskInfo

pytestmark = pytest.mark.timeout(60)

HELD = "Local/+12025550104@test-carrier"  # answers and stays up until we hang up


def duration_count(node: str, method: str, route: str, status: str) -> float:
    labels = {"node": node, "method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("dialplane_ari_request_duration_seconds_count", labels) or 0.0


@pytest_asyncio.fixture
async def ari(ari_app: AsteriskInfo, node: str) -> AsyncIterator[AriClient]:
    async with AriClient(ari_app.ari_url, ari_app.username, ari_app.password, node=node) as client:
        yield client


@pytest_asyncio.fixture
async def watcher(ari_app: AsteriskInfo) -> AsyncIterator[AriTestClient]:
    """Registers the test's application (so originated calls can enter Stasis) and collects its events."""
    async with AriTestClient(ari_app) as client:
        yield client


@pytest.mark.asterisk
async def test_asterisk_info_is_version_22(ari: AriClient) -> None:
    info = await ari.asterisk_info()
    assert info["system"]["version"].startswith("22.")


@pytest.mark.asterisk
async def test_originate_get_hangup_and_conflict(
    ari: AriClient, watcher: AriTestClient, ari_app: AsteriskInfo, node: str
) -> None:
    channel_id = f"client-{uuid.uuid4().hex[:12]}"
    channel = await ari.originate(endpoint=HELD, channel_id=channel_id, app=ari_app.app, app_args=["a", "b"])
    assert channel["id"] == channel_id

    with pytest.raises(AriConflictError) as conflict:  # the same id again: the first attempt succeeded
        await ari.originate(endpoint=HELD, channel_id=channel_id, app=ari_app.app)
    assert conflict.value.status_code == 409
    assert [c["id"] for c in await ari.list_channels()].count(channel_id) == 1

    started = await watcher.wait_for("StasisStart", channel_id)
    assert started["args"] == ["a", "b"]
    assert (await ari.get_channel(channel_id))["state"] == "Up"
    assert channel_id in (await ari.get_application(ari_app.app))["channel_ids"]
    subscribed = await ari.subscribe(ari_app.app, f"channel:{channel_id}")
    assert channel_id in subscribed["channel_ids"]
    with pytest.raises(AriNotFoundError):  # 422: no such event source
        await ari.subscribe(ari_app.app, "channel:no-such-channel")
    await ari.set_variable(channel_id, "DIALPLANE_TEST", "yes")
    playback = await ari.play(channel_id, "sound:hello-world", playback_id=f"pb-{channel_id}")
    assert playback["id"] == f"pb-{channel_id}"

    await ari.hangup(channel_id)
    destroyed = await watcher.wait_for("ChannelDestroyed", channel_id)
    assert destroyed["cause"] == 16
    with pytest.raises(AriNotFoundError) as not_found:
        await ari.get_channel(channel_id)
    assert not_found.value.route == "/channels/{channelId}"
    with pytest.raises(AriNotFoundError):
        await ari.hangup(channel_id)
    assert duration_count(node, "GET", "/channels/{channelId}", "404") == 1
    assert duration_count(node, "POST", "/channels", "409") == 1
    assert duration_count(node, "DELETE", "/channels/{channelId}", "204") == 1


@pytest.mark.asterisk
async def test_variables_and_caller_id_are_sent(
    ari: AriClient, watcher: AriTestClient, ari_app: AsteriskInfo
) -> None:
    channel_id = f"client-{uuid.uuid4().hex[:12]}"
    await ari.originate(
        endpoint=HELD,
        channel_id=channel_id,
        app=ari_app.app,
        caller_id="Dialplane <+12025550000>",
        variables={"DIALPLANE_CALL_ID": channel_id},
        timeout=5,
    )
    try:
        started = await watcher.wait_for("StasisStart", channel_id)
        assert started["channel"]["caller"] == {"name": "Dialplane", "number": "+12025550000"}
        value = await watcher.request(
            "GET", f"/channels/{channel_id}/variable", params={"variable": "DIALPLANE_CALL_ID"}
        )
        assert value.json()["value"] == channel_id
    finally:
        await ari.hangup(channel_id)


@pytest.mark.asterisk
async def test_wrong_password_raises_auth_error(asterisk: AsteriskInfo, node: str) -> None:
    async with AriClient(asterisk.ari_url, asterisk.username, "wrong-secret", node=node) as ari:
        with pytest.raises(AriAuthError) as error:
            await ari.asterisk_info()
    assert error.value.status_code == 401
    assert "credentials" in str(error.value)
    assert "wrong-secret" not in str(error.value)
    assert duration_count(node, "GET", "/asterisk/info", "401") == 1


async def test_unreachable_port_raises_unavailable(unused_port: int, node: str) -> None:
    async with AriClient(f"http://127.0.0.1:{unused_port}/ari", "user", "secret", node=node) as ari:
        with pytest.raises(AriUnavailableError) as error:
            await ari.get_channel("some-channel")
    assert error.value.status_code is None
    assert error.value.message == f"connection refused at 127.0.0.1:{unused_port}"
    assert duration_count(node, "GET", "/channels/{channelId}", "error") == 1


def answering(
    status: int, body: object = None, seen: list[httpx.Request] | None = None
) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


async def test_originate_body_and_quoted_path() -> None:
    seen: list[httpx.Request] = []
    async with AriClient("http://ari.test/ari", "u", "p", transport=answering(200, {"id": "x"}, seen)) as ari:
        await ari.originate(
            endpoint="PJSIP/+1@trunk",
            channel_id="c-1",
            app="app",
            app_args=["x", "y"],
            variables={"A": "1"},
            other_channel_id="c-1-b",
        )
        await ari.get_channel("odd;id/1")
    body = json.loads(seen[0].content)
    assert body == {
        "endpoint": "PJSIP/+1@trunk",
        "channelId": "c-1",
        "otherChannelId": "c-1-b",
        "app": "app",
        "appArgs": "x,y",
        "timeout": 30,
        "variables": {"A": "1"},
    }
    assert seen[1].url.raw_path == b"/ari/channels/odd%3Bid%2F1"


async def test_originate_refuses_app_and_context_together() -> None:
    async with AriClient("http://ari.test/ari", "u", "p", transport=answering(200, {})) as ari:
        with pytest.raises(ValueError, match="not both"):
            await ari.originate(endpoint="Local/1@x", channel_id="c", app="app", context="ctx")


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, AriError),
        (403, AriAuthError),
        (404, AriNotFoundError),
        (409, AriConflictError),
        (500, AriUnavailableError),
        (503, AriUnavailableError),
    ],
)
async def test_status_codes_map_to_errors(status: int, error_class: type[AriError]) -> None:
    transport = answering(status, {"message": "from ARI"})
    async with AriClient("http://ari.test/ari", "u", "p", transport=transport) as ari:
        with pytest.raises(AriError) as error:
            await ari.hangup("c-1")
    assert type(error.value) is error_class
    assert (error.value.status_code, error.value.method, error.value.route) == (
        status,
        "DELETE",
        "/channels/{channelId}",
    )


async def test_timeout_raises_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with AriClient("http://ari.test:8088/ari", "u", "p", transport=httpx.MockTransport(slow)) as ari:
        with pytest.raises(AriUnavailableError, match=r"no answer from ari\.test:8088"):
            await ari.asterisk_info()
